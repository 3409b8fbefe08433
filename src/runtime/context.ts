/**
 * The partition task an agent's code runs in. AsyncLocalStorage carries it through every await of
 * the agent body, so `topic.send()` called anywhere inside an agent is tied to the records being
 * processed: their offsets are not committed until that send is acknowledged (at-least-once).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { ConsumedRecord, ProducerRecord, RecordMetadata } from '../transport/types.js'

export interface TaskContext {
  readonly processor: string
  readonly topic: string
  readonly partition: number
  /** Sends records as outputs of the records now in process. */
  send(records: ProducerRecord[]): Promise<RecordMetadata[]>
  /** The last record taken by the body (its key is the key of what the agent yields). */
  currentRecord(): ConsumedRecord | undefined
}

const storage = new AsyncLocalStorage<TaskContext>()

export function runInTask<T>(context: TaskContext, fn: () => T): T {
  return storage.run(context, fn)
}

/** The task whose code is running now, if any. */
export function currentTask(): TaskContext | undefined {
  return storage.getStore()
}
