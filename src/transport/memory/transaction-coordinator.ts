/**
 * The broker's transaction coordinator, as Kafka's: one session (producer id + epoch) per
 * transactional id. A new producer with the same id bumps the epoch, which fences the old one
 * (zombie fencing) and aborts its open transaction. Ending a transaction writes a COMMIT or ABORT
 * marker into every partition it touched and, on commit, stores the consumer offsets it carried.
 * A transaction still open transactionTimeoutMs after its first send is aborted by the coordinator,
 * which bumps the epoch: the producer is fenced, as Kafka's coordinator fences a timed-out producer.
 */
import type { TopicPartitionOffset } from '../types.js'
import type { Group } from './group/coordinator.js'
import type { PartitionLog, TxnRef } from './log.js'
import { tpKey } from './util.js'

export class TxnSession {
  fenced = false
  /** Why it was fenced when not by a newer producer with its id (the transaction timeout). */
  fencedReason: string | undefined
  current: Txn | undefined
  constructor(
    readonly transactionalId: string,
    readonly producerId: number,
    readonly epoch: number,
    /** Kafka's transaction.timeout.ms, sent by the producer at InitProducerId. */
    readonly timeoutMs: number,
  ) {}
}

export class Txn implements TxnRef {
  state: 'open' | 'committed' | 'aborted' = 'open'
  /** Why the coordinator aborted it on its own (fencing, timeout); undefined when its producer ended it. */
  abortReason: string | undefined
  readonly logs = new Set<PartitionLog>()
  readonly offsets = new Map<Group, Map<string, TopicPartitionOffset>>()
  /** Set at the first send or sendOffsets, when Kafka's coordinator first hears of the transaction. */
  deadline = Infinity

  constructor(readonly session: TxnSession) {}
}

export class TransactionCoordinator {
  private readonly sessions = new Map<string, TxnSession>()
  private nextProducerId = 1000
  private timer: NodeJS.Timeout | undefined
  private timerDeadline = Infinity
  private stopped = false

  /** Kafka's initTransactions: the previous producer with this id is fenced, its transaction aborted. */
  init(transactionalId: string, timeoutMs: number): TxnSession {
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
      timeoutMs,
    )
    this.sessions.set(transactionalId, session)
    return session
  }

  begin(session: TxnSession): Txn {
    const txn = new Txn(session)
    session.current = txn
    return txn
  }

  /** The transaction's first send (AddPartitionsToTxn / AddOffsetsToTxn) starts its timeout. */
  started(txn: Txn): void {
    if (txn.deadline !== Infinity || txn.state !== 'open') return
    txn.deadline = Date.now() + txn.session.timeoutMs
    this.arm()
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

  /** Aborts transactions open longer than their timeout; an unref'd timer, armed only while some are open. */
  private arm(): void {
    if (this.stopped) return
    let deadline = Infinity
    for (const session of this.sessions.values())
      if (session.current) deadline = Math.min(deadline, session.current.deadline)
    if (deadline === Infinity || deadline >= this.timerDeadline) return
    clearTimeout(this.timer)
    this.timerDeadline = deadline
    this.timer = setTimeout(
      () => {
        this.timer = undefined
        this.timerDeadline = Infinity
        this.expire(Date.now())
        this.arm()
      },
      Math.max(0, deadline - Date.now()) + 1,
    )
    this.timer.unref()
  }

  private expire(now: number): void {
    for (const session of this.sessions.values()) {
      const txn = session.current
      if (!txn || txn.deadline > now) continue
      const why = `it was still open transactionTimeoutMs (${session.timeoutMs} ms) after its first send`
      this.end(txn, false, why)
      session.fenced = true
      session.fencedReason = why
    }
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }
}
