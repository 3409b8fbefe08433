/**
 * The broker's transaction coordinator, as Kafka's: one session (producer id + epoch) per
 * transactional id. A new producer with the same id bumps the epoch, which fences the old one
 * (zombie fencing) and aborts its open transaction. Ending a transaction writes a COMMIT or ABORT
 * marker into every partition it touched and, on commit, stores the consumer offsets it carried.
 */
import type { TopicPartitionOffset } from '../types.js'
import type { Group } from './group-coordinator.js'
import type { PartitionLog, TxnRef } from './log.js'
import { tpKey } from './util.js'

/** The Java producer's default transaction.timeout.ms: an open transaction older than this is aborted. */
export const TRANSACTION_TIMEOUT_MS = 60_000

export class TxnSession {
  fenced = false
  current: Txn | undefined
  constructor(
    readonly transactionalId: string,
    readonly producerId: number,
    readonly epoch: number,
  ) {}
}

export class Txn implements TxnRef {
  state: 'open' | 'committed' | 'aborted' = 'open'
  /** Why the coordinator aborted it on its own (fencing, timeout); undefined when its producer ended it. */
  abortReason: string | undefined
  readonly logs = new Set<PartitionLog>()
  readonly offsets = new Map<Group, Map<string, TopicPartitionOffset>>()
  readonly deadline = Date.now() + TRANSACTION_TIMEOUT_MS

  constructor(readonly session: TxnSession) {}
}

export class TransactionCoordinator {
  private readonly sessions = new Map<string, TxnSession>()
  private nextProducerId = 1000
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  /** Kafka's initTransactions: the previous producer with this id is fenced, its transaction aborted. */
  init(transactionalId: string): TxnSession {
    const previous = this.sessions.get(transactionalId)
    if (previous) {
      previous.fenced = true
      if (previous.current)
        this.end(
          previous.current,
          false,
          `a newer producer with transactional id ${transactionalId} fenced it`,
        )
    }
    const session = new TxnSession(
      transactionalId,
      previous?.producerId ?? this.nextProducerId++,
      (previous?.epoch ?? -1) + 1,
    )
    this.sessions.set(transactionalId, session)
    return session
  }

  begin(session: TxnSession): Txn {
    const txn = new Txn(session)
    session.current = txn
    this.arm()
    return txn
  }

  /** sendOffsetsToTransaction: the offsets become pending in the group until the transaction ends. */
  addOffsets(txn: Txn, group: Group, offsets: readonly TopicPartitionOffset[]): void {
    let pending = txn.offsets.get(group)
    if (!pending) txn.offsets.set(group, (pending = new Map<string, TopicPartitionOffset>()))
    for (const { topic, partition, offset } of offsets) {
      const key = tpKey(topic, partition)
      if (!pending.has(key)) group.pendingTxnOffsets.set(key, (group.pendingTxnOffsets.get(key) ?? 0) + 1)
      pending.set(key, { topic, partition, offset })
    }
  }

  /** Commits or aborts: markers first (they release read_committed readers), then the group offsets. */
  end(txn: Txn, commit: boolean, abortReason?: string): void {
    if (txn.state !== 'open') return
    txn.state = commit ? 'committed' : 'aborted'
    txn.abortReason = abortReason
    if (txn.session.current === txn) txn.session.current = undefined
    const now = Date.now()
    for (const log of txn.logs) log.appendMarker(txn, now)
    for (const [group, offsets] of txn.offsets) {
      for (const key of offsets.keys()) {
        const left = (group.pendingTxnOffsets.get(key) ?? 1) - 1
        if (left > 0) group.pendingTxnOffsets.set(key, left)
        else group.pendingTxnOffsets.delete(key)
      }
      if (commit) group.store([...offsets.values()])
      group.wakeAll()
    }
  }

  /** Aborts transactions open longer than the timeout; an unref'd timer, armed only while some are open. */
  private arm(): void {
    if (this.timer || this.stopped) return
    let deadline = Infinity
    for (const session of this.sessions.values())
      if (session.current) deadline = Math.min(deadline, session.current.deadline)
    if (deadline === Infinity) return
    this.timer = setTimeout(
      () => {
        this.timer = undefined
        const now = Date.now()
        for (const session of this.sessions.values()) {
          const txn = session.current
          if (txn && txn.deadline <= now) {
            this.end(
              txn,
              false,
              `it was open longer than transaction.timeout.ms (${TRANSACTION_TIMEOUT_MS} ms)`,
            )
          }
        }
        this.arm()
      },
      Math.max(0, deadline - Date.now()) + 1,
    )
    this.timer.unref()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }
}
