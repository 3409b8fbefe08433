/**
 * Exactly-once commits (Kafka Streams' exactly_once_v2): one transactional producer per worker, and
 * one transaction per commit interval holding the outputs, changelog writes and dead letters of
 * every task, with the tasks' source offsets sent into it under the group's generation (KIP-447).
 *
 *   prepare -> every task draws its line (task.quiesce: nothing in process, every output acked);
 *              the offsets are fixed; the stores flush into the transaction; the output batcher's
 *              gate closes (later sends wait for the next transaction) and the tasks go on;
 *   commit  -> the offsets go into the transaction, which commits; the gate opens;
 *   failure -> the transaction aborts, what the gate held is dropped, and every task is rewound to
 *              its last committed offsets with its stores rebuilt (the worker's `rewind`).
 *
 * Why every task, whatever the caller passes: the transaction is the worker's, so committing it
 * with some tasks' offsets would commit the other tasks' outputs without theirs.
 */
import { TributaryError } from '../../errors.js'
import type { Consumer, TopicPartitionOffset, Transaction } from '../../transport/types.js'
import type { OutputBatcher } from '../output/batcher.js'
import type { StreamTask } from '../task/task.js'
import type { CommitProtocol, PreparedCommit } from './protocol.js'
import type { Transactions } from './transactions.js'

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`

export interface ExactlyOnceHost {
  readonly consumer: Consumer
  readonly transactions: Transactions
  readonly batcher: OutputBatcher
  /** Every task of the worker. */
  tasks(): StreamTask[]
  /** Closes every task dirty and starts it again from the group's committed offsets. */
  rewind(why: string): Promise<void>
  /** How long a commit waits for the records in process to be done. */
  readonly quiesceMs: number
}

export class ExactlyOnce implements CommitProtocol {
  readonly guarantee = 'exactly_once' as const
  readonly committed = new Map<string, number>()
  readonly #host: ExactlyOnceHost
  /** The transaction a commit took and has not ended yet: an abort ends it. */
  #ending: Transaction | undefined

  constructor(host: ExactlyOnceHost) {
    this.#host = host
  }

  async prepare(): Promise<PreparedCommit> {
    const host = this.#host
    const tasks = host.tasks()
    const quiesced = await Promise.all(tasks.map((task) => task.quiesce(host.quiesceMs)))
    const stuck = tasks.filter((_, i) => !quiesced[i])
    if (stuck.length > 0) {
      for (const task of tasks) task.resume()
      throw new TributaryError(
        'TIMEOUT',
        `tasks ${stuck.map((t) => t.id).join(', ')} did not finish their records in process within ${host.quiesceMs} ms: the transaction cannot end`,
      )
    }
    const offsets: TopicPartitionOffset[] = []
    for (const task of tasks)
      for (const o of task.committable())
        if (o.offset !== this.committed.get(key(o.topic, o.partition))) offsets.push(o)
    // The flushes enqueue their changelog writes at once; then the gate draws the line.
    const flushed = tasks.map((task) => task.stateManager.flush())
    host.batcher.sendThenClose()
    for (const task of tasks) task.resume()
    try {
      await Promise.all(flushed)
    } catch (error) {
      await this.onFailure({ tasks, offsets }, error)
      throw error
    }
    return { tasks, offsets }
  }

  async commit(prepared: PreparedCommit): Promise<void> {
    const host = this.#host
    if (!host.transactions.pending && prepared.offsets.length === 0) {
      host.batcher.open()
      return
    }
    const transaction = (this.#ending = await host.transactions.take())
    await transaction.sendOffsets(host.consumer, [...prepared.offsets])
    await transaction.commit()
    this.#ending = undefined
    host.transactions.committed++
    for (const o of prepared.offsets) this.committed.set(key(o.topic, o.partition), o.offset)
    host.batcher.open()
  }

  postCommit(prepared: PreparedCommit): void {
    // Exactly-once keeps no checkpoint while tasks run (stores.ts): a clean close writes it.
    for (const task of prepared.tasks) task.stateManager.checkpoint([])
  }

  async onFailure(_prepared: PreparedCommit, error: unknown): Promise<void> {
    await this.abort(`the commit failed: ${String(error)}`)
  }

  /** Aborts the open transaction and rewinds every task to its last committed offsets. */
  async abort(why: string): Promise<void> {
    const host = this.#host
    host.batcher.close()
    const transaction =
      this.#ending ??
      (host.transactions.pending ? await host.transactions.take().catch(() => undefined) : undefined)
    this.#ending = undefined
    if (transaction) {
      await transaction.abort().catch(() => undefined)
      host.transactions.aborted++
    }
    try {
      // Tasks are closed before what the gate held is dropped: a closed task ignores the refusal.
      await host.rewind(why)
    } finally {
      host.batcher.discard(new TributaryError('TRANSACTION', `the transaction was aborted (${why})`))
      host.batcher.open()
    }
  }

  forget(partitions: readonly { topic: string; partition: number }[]): void {
    for (const p of partitions) this.committed.delete(key(p.topic, p.partition))
  }
}
