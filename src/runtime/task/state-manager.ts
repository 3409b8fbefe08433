/**
 * A task's state manager (Kafka Streams' ProcessorStateManager): the stores of the task, their
 * restoration from changelogs, their flush before a commit and their checkpoints after it. The
 * commit protocol drives it through these three calls; a task without stores has nothing to do.
 */
import type { TopicPartitionOffset } from '../../transport/types.js'

export interface StateManager {
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
}

/** The state manager of a task without stores. */
export const statelessManager: StateManager = {
  restore: () => Promise.resolve(),
  flush: () => Promise.resolve(),
  checkpoint: () => undefined,
  close: () => Promise.resolve(),
  offsets: () => 0,
}
