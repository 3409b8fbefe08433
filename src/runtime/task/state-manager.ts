/**
 * A task's state manager (Kafka Streams' ProcessorStateManager): the stores of the task, their
 * restoration from changelogs, their flush before a commit and their checkpoints after it. The
 * commit protocol drives it through these calls; a task without stores has nothing to do
 * (statelessManager). The manager of a task with stores is in stores.ts.
 */
import type { RestoreProgress } from '../../state/restore.js'
import type { KeyValue } from '../../state/types.js'
import type { TopicPartitionOffset } from '../../transport/types.js'

/** What a windowed table's engine reports of one task (written by it, read by /stats and /metrics). */
export interface WindowStats {
  /** Windows open now. */
  pending: number
  /** Windows closed (their final values emitted) since the task started. */
  closed: number
  /** Records that came for closed windows (dropped or sent to the late topic). */
  late: number
  /** The task's stream time for the table: the highest record time seen; -1 before the first. */
  streamTime: number
}

/** One store of a task, for /stats and /metrics. */
export interface StoreStats {
  readonly name: string
  readonly changelog: string
  readonly partition: number
  readonly url: string
  readonly keys: number
  readonly gets: number
  readonly sets: number
  readonly deletes: number
  /** Changelog records written by this task. */
  readonly changelogWrites: number
  readonly restore: RestoreProgress | undefined
  /** For a windowed table's store. */
  readonly windows?: WindowStats
}

export interface StateManager {
  /** True when the task has stores (its processors then run inside the task scope). */
  readonly stateful: boolean
  /** Brings the stores up to date before the task processes a record. */
  restore(): Promise<void>
  /** Sends what the stores' caches hold to the changelogs; resolves once acknowledged. */
  flush(): Promise<void>
  /** After a commit: records the changelog offsets the stores reached (their checkpoint). */
  checkpoint(committed: readonly TopicPartitionOffset[]): void
  /** Closes the stores; a dirty close leaves no checkpoint, so the next owner restores in full. */
  close(clean: boolean): Promise<void>
  /** Changelog offsets of the local state per store (for standby-aware placement). */
  offsets(): number
  /** The store of a table, once restored. */
  store(name: string): KeyValue<unknown, unknown> | undefined
  /** The window counts of a table's store on this task (made on first ask); undefined without that table. */
  windowStats(name: string): WindowStats | undefined
  /** Forgets what the caches hold that was not flushed (the task rewinds to its last commit). */
  reset(): void
  stats(): StoreStats[]
}

/** The state manager of a task without stores. */
export const statelessManager: StateManager = {
  stateful: false,
  restore: () => Promise.resolve(),
  flush: () => Promise.resolve(),
  checkpoint: () => undefined,
  close: () => Promise.resolve(),
  offsets: () => 0,
  store: () => undefined,
  windowStats: () => undefined,
  reset: () => undefined,
  stats: () => [],
}
