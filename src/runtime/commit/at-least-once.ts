/**
 * At-least-once commits: the done prefix of every source partition, sent with OffsetCommit after
 * the state managers' flushes were acknowledged. A crash between the two reprocesses records whose
 * results were already written: duplicates, never loss.
 */
import type { Consumer, TopicPartitionOffset } from '../../transport/types.js'
import type { StreamTask } from '../task/task.js'
import type { CommitProtocol, PreparedCommit } from './protocol.js'

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`

export class AtLeastOnce implements CommitProtocol {
  readonly guarantee = 'at_least_once' as const
  readonly #consumer: Consumer
  /** What this worker committed, per partition it owns. */
  readonly committed = new Map<string, number>()

  /** How long a commit waits for a task with stores to finish its records in process (then it is left out). */
  readonly #quiesceMs: number

  constructor(consumer: Consumer, quiesceMs = 5_000) {
    this.#consumer = consumer
    this.#quiesceMs = quiesceMs
  }

  async prepare(tasks: readonly StreamTask[]): Promise<PreparedCommit> {
    // A task with stores first draws its line (task.quiesce): its stores then hold the effects of
    // exactly the records done, whose outputs are all acknowledged, so the changelog written next is
    // never ahead of the outputs (a crash after it would otherwise skip outputs on reprocessing).
    const included = await Promise.all(
      tasks.map((task) =>
        task.stateManager.stateful ? task.quiesce(this.#quiesceMs) : Promise.resolve(true),
      ),
    )
    // Offsets first, flushes second: the stores then hold at least the effects of every record
    // before these offsets, and the flush makes those effects durable before the offsets are.
    const offsets: TopicPartitionOffset[] = []
    const committing = tasks.filter((_, i) => included[i])
    for (const task of committing) {
      for (const o of task.committable()) {
        if (o.offset !== this.committed.get(key(o.topic, o.partition))) offsets.push(o)
      }
    }
    // A flush takes what the caches hold at once (before its first await): the tasks may go on.
    const flushed = committing.map((task) => task.stateManager.flush())
    for (const task of committing) if (task.stateManager.stateful) task.resume()
    await Promise.all(flushed)
    return { tasks: committing, offsets }
  }

  async commit(prepared: PreparedCommit): Promise<void> {
    if (prepared.offsets.length === 0) return
    await this.#consumer.commit([...prepared.offsets])
    // Commits run one at a time (committer.ts), so the last one sent is the group's offset, even
    // when it is lower than an earlier one (a task rewound to its last commit).
    for (const o of prepared.offsets) this.committed.set(key(o.topic, o.partition), o.offset)
  }

  postCommit(prepared: PreparedCommit): void {
    for (const task of prepared.tasks) {
      const own = new Set(task.partitions.map((tp) => key(tp.topic, tp.partition)))
      task.stateManager.checkpoint(prepared.offsets.filter((o) => own.has(key(o.topic, o.partition))))
    }
  }

  onFailure(): Promise<void> {
    // Nothing to undo: the offsets stay where they were and the records are processed again.
    return Promise.resolve()
  }

  /** Forgets partitions this worker no longer owns. */
  forget(partitions: readonly { topic: string; partition: number }[]): void {
    for (const p of partitions) this.committed.delete(key(p.topic, p.partition))
  }
}
