/** What the runtime runs: processors compiled from the app's agents and stream definitions. */
import type { AgentStream } from '../streams/agent-stream.js'
import type { Op } from '../streams/stream.js'
import type { ErrorPolicy, Event } from '../streams/types.js'
import type { ConsumedRecord } from '../transport/types.js'
import type { TaskContext } from './context.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyEvent = Event<any, any>

/**
 * One processor reading one topic: an agent, or the forwarder that ends a segment at a groupBy or
 * through. Each assigned partition of its topic gets its own instance (a partition task), so state
 * and order are per partition.
 */
export interface ProcessorSpec {
  readonly name: string
  readonly topic: string
  /** Decodes a record; throws on bad bytes (the error policy then takes the record). */
  decode(record: ConsumedRecord): AnyEvent
  /** Operators run in the task before the body (map, filter, forward, branch). */
  readonly ops: readonly Op[]
  /** The agent body: consumes the stream until it ends. */
  run(stream: AgentStream<AnyEvent>, context: TaskContext): Promise<void>
  readonly errors: ErrorPolicy
  /** Copies of the body per partition task. @default 1 */
  readonly concurrency: number
}
