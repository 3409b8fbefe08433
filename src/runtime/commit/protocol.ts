/**
 * The phased commit (Kafka Streams' TaskExecutor.commitOffsetsOrTransaction with the tasks'
 * prepareCommit/postCommit):
 *
 *   prepare  -> fix the offsets to commit (every record before them fully processed, outputs acked),
 *               then flush what the tasks' state managers hold and wait for those acks;
 *   commit   -> make the offsets durable: OffsetCommit (at-least-once), or, with exactly-once, the
 *               offsets sent into the open transaction under the group's generation (KIP-447) and
 *               the transaction committed while the output batcher's gate holds new sends back;
 *   post     -> write the state managers' checkpoints.
 *
 * Invariant (at-least-once): an offset is committed only after every output and changelog write of
 * the records before it was acknowledged. Under exactly-once, a failed commit aborts, and the tasks
 * of the transaction are rewound to their last committed offsets (`rewind`).
 */
import type { TopicPartitionOffset } from '../../transport/types.js'
import type { StreamTask } from '../task/task.js'

export interface PreparedCommit {
  readonly tasks: readonly StreamTask[]
  /** The offsets to commit, only those that moved since the last commit. */
  readonly offsets: readonly TopicPartitionOffset[]
}

export interface CommitProtocol {
  readonly guarantee: 'at_least_once' | 'exactly_once'
  prepare(tasks: readonly StreamTask[]): Promise<PreparedCommit>
  commit(prepared: PreparedCommit): Promise<void>
  postCommit(prepared: PreparedCommit): void
  /** A commit failed: what must be undone (nothing under at-least-once; abort and rewind under exactly-once). */
  onFailure(prepared: PreparedCommit, error: unknown): Promise<void>
  /** What this worker committed, per partition it owns. */
  readonly committed: ReadonlyMap<string, number>
  /** Forgets partitions this worker no longer owns. */
  forget(partitions: readonly { topic: string; partition: number }[]): void
}
