/** What an agent body and the operators of a partition task can reach of their task. */
import type { ConsumedRecord, ProducerRecord } from '../transport/types.js'

export interface TaskContext {
  readonly processor: string
  readonly topic: string
  readonly partition: number
  /**
   * Sends records as outputs of the records now in process: their offsets are not committed until
   * these are acknowledged (at-least-once). A record that cannot be delivered fails the task.
   */
  emit(records: ProducerRecord[]): void
  /** The last record taken by the body (its key is the key of what the agent yields). */
  currentRecord(): ConsumedRecord | undefined
}
