import { randomUUID } from 'node:crypto'
import { tablesBehaviour } from './tables.js'

tablesBehaviour({ label: 'memory:// (embedded broker)', broker: () => `memory://tables-${randomUUID()}` })
