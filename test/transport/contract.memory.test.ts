import { randomUUID } from 'node:crypto'
import { openTransport } from '../../src/transport/index.js'
import { transportContract } from './contract.js'

transportContract({
  label: 'memory:// (embedded broker)',
  open: () => openTransport(`memory://contract-${randomUUID()}`),
  sessionTimeoutMs: 2_000,
})
