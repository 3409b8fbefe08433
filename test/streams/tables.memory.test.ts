import { randomUUID } from 'node:crypto'
import { injectFault } from '../../src/transport/index.js'
import { tablesBehaviour } from './tables.js'

tablesBehaviour({
  label: 'memory:// (embedded broker)',
  broker: () => `memory://tables-${randomUUID()}`,
  faults: (broker, fault) => injectFault(broker, fault),
})
