import { randomUUID } from 'node:crypto'
import { windowsBehaviour } from './windows.js'

windowsBehaviour({
  label: 'memory:// (embedded broker)',
  broker: () => `memory://windows-${randomUUID()}`,
})
