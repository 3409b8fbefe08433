import { randomUUID } from 'node:crypto'
import { streamsBehaviour } from './behaviour.js'

streamsBehaviour({ label: 'memory:// (embedded broker)', broker: () => `memory://streams-${randomUUID()}` })
