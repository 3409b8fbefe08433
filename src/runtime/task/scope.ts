/**
 * Which task the code running now belongs to: a table used in an agent body reaches its task's
 * store through this (Faust keeps the current event in a context variable for the same reason).
 * Only tasks with stores run their processors inside the scope, so a stateless app never pays for
 * the async context.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { KeyValue } from '../../state/types.js'
import type { WindowStats } from './state-manager.js'
import type { AnyEvent, Cancellable, Outputs } from '../types.js'

/** What a table reaches of the task in scope. */
export interface TaskScope {
  readonly taskId: string
  readonly partition: number
  /** The processor running (named in errors). */
  readonly processor: string
  /** The store of a table this task holds; undefined when no processor of the task uses it. */
  store(name: string): KeyValue<unknown, unknown> | undefined
  /** The window counts of a windowed table's store on this task (for /stats and /metrics). */
  windowStats(name: string): WindowStats | undefined
  /** The event the processor took last (the one in process, for a body that takes one at a time). */
  event(): AnyEvent | undefined
  /** Sends outputs of the task that hold its commits until acknowledged (a closed window's value). */
  emit(records: Outputs): void
  /** The app's clock. */
  now(): number
  /** The app's log. */
  log(level: 'info' | 'warn', message: string): void
  /** A punctuation of the processor (see ProcessorContext.schedule). */
  schedule(
    intervalMs: number,
    type: 'stream' | 'wall',
    fn: (timestamp: number) => void | Promise<void>,
  ): Cancellable
}

export const taskScope = new AsyncLocalStorage<TaskScope>()

/** The task scope of the code running now, if it runs inside a task's processor. */
export function currentTask(): TaskScope | undefined {
  return taskScope.getStore()
}
