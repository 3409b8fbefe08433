/**
 * One partition's log: an array indexed by `offset - base`, so appends are O(1) amortised and a
 * fetch finds its first record in O(1). Offsets never change: retention moves the log start offset
 * forward, compaction leaves holes, transaction markers take an offset that no consumer sees.
 */
import type { ConsumedRecord, Headers } from '../types.js'
import type { EffectiveConfig } from './topic-configs.js'

/** A transaction as a log sees it: its records are hidden from read_committed once it aborted. */
export interface TxnRef {
  state: 'open' | 'committed' | 'aborted'
}

/** Broker-wide settings (Kafka's broker configs) that log maintenance follows. */
export interface BrokerSettings {
  /** Kafka's log.retention.check.interval.ms: how long a record past retention may still be read. */
  retentionCheckIntervalMs: number
}

/** One offset of the log. `record` is null for a control marker or a record removed by compaction. */
export class Entry {
  constructor(
    public record: ConsumedRecord | null,
    /** The record's timestamp (the append time for a control marker). */
    readonly timestamp: number,
    /** The largest record timestamp up to here: monotonic, so lookups by time bisect (Kafka's time index). */
    readonly maxTimestamp: number,
    readonly appendTime: number,
    /** Bytes appended to the partition before this entry: its byte position, as in a segment file. */
    readonly position: number,
    public size: number,
    readonly txn: TxnRef | null,
  ) {}
}

/** The dead prefix the array keeps before it is dropped in one slice. */
const TRIM_SLACK = 1024

export class PartitionLog {
  /** Offset of entries[0]; entries below the log start offset are dropped in bulk (amortised O(1)). */
  private base = 0
  private entries: Entry[] = []
  /** The log start offset: retention moves it forward (Kafka's logStartOffset). */
  startOffset = 0
  /** Bytes of the live entries in [startOffset, endOffset), for retention.bytes. */
  bytes = 0
  /** Bytes ever appended: the next entry's position. */
  private appended = 0
  /** Live records (not removed by compaction), and entries appended since the last compaction pass. */
  live = 0
  dirty = 0
  /** When entries left uncleanable by the last compaction pass become cleanable. */
  nextCleanAt = Infinity
  /** The first offset of each open transaction in this partition; the smallest is the last stable offset. */
  readonly openTxns = new Map<TxnRef, number>()
  /** Consumers waiting in poll(); woken (and forgotten) on every append. */
  readonly waiters = new Set<() => void>()

  constructor(
    readonly topic: string,
    readonly partition: number,
    public config: EffectiveConfig,
    readonly settings: BrokerSettings,
  ) {}

  /** The log end offset: the offset the next record gets (markers included, as in Kafka). */
  get endOffset(): number {
    return this.base + this.entries.length
  }

  /** read_committed consumers read up to here: the first offset of the oldest open transaction. */
  get lastStableOffset(): number {
    let lso = this.endOffset
    for (const first of this.openTxns.values()) if (first < lso) lso = first
    return lso
  }

  /** Bytes appended so far; entries with `position >= appendedBytes - segment.bytes` are in the active segment. */
  get appendedBytes(): number {
    return this.appended
  }

  entryAt(offset: number): Entry | undefined {
    return offset >= this.startOffset ? this.entries[offset - this.base] : undefined
  }

  append(
    key: Buffer | null,
    value: Buffer | null,
    headers: Headers,
    timestamp: number,
    now: number,
    size: number,
    txn: TxnRef | null,
  ): number {
    const offset = this.endOffset
    const last = this.entries[this.entries.length - 1]
    const maxTimestamp = last && last.maxTimestamp > timestamp ? last.maxTimestamp : timestamp
    const record: ConsumedRecord = {
      topic: this.topic,
      partition: this.partition,
      offset,
      timestamp,
      key,
      value,
      headers,
    }
    this.entries.push(new Entry(record, timestamp, maxTimestamp, now, this.appended, size, txn))
    this.appended += size
    this.bytes += size
    this.live++
    this.dirty++
    if (txn && !this.openTxns.has(txn)) this.openTxns.set(txn, offset)
    return offset
  }

  /** Writes a transaction's COMMIT or ABORT marker: it takes one offset and unblocks the last stable offset. */
  appendMarker(txn: TxnRef, now: number): void {
    if (!this.openTxns.delete(txn)) return
    const last = this.entries[this.entries.length - 1]
    // A marker does not move the time index: lookups by time are about records.
    this.entries.push(new Entry(null, now, last ? last.maxTimestamp : now, now, this.appended, 0, txn))
    this.dirty++
    this.notify()
  }

  /**
   * Appends up to `max` visible records from `offset` to `out` and returns the next offset to read.
   * Markers and compacted holes are skipped (the position moves past them); read_committed stops at
   * the last stable offset and skips the records of aborted transactions.
   */
  read(offset: number, max: number, readCommitted: boolean, out: ConsumedRecord[]): number {
    const stop = (readCommitted ? this.lastStableOffset : this.endOffset) - this.base
    let index = Math.max(offset, this.startOffset) - this.base
    let taken = 0
    while (index < stop && taken < max) {
      const entry = this.entries[index++]!
      if (entry.record === null) continue
      if (readCommitted && entry.txn !== null && entry.txn.state === 'aborted') continue
      out.push(entry.record)
      taken++
    }
    return Math.max(offset, index + this.base)
  }

  /** The first offset at or after the log start whose entry satisfies a predicate that is monotonic in offset. */
  bisect(test: (entry: Entry) => boolean): number {
    let lo = this.startOffset - this.base
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (test(this.entries[mid]!)) hi = mid
      else lo = mid + 1
    }
    return lo + this.base
  }

  /** The first offset whose record's timestamp is >= `timestamp`, or the log end offset when none is. */
  offsetForTimestamp(timestamp: number): number {
    const end = this.endOffset
    for (let offset = this.bisect((e) => e.maxTimestamp >= timestamp); offset < end; offset++) {
      const entry = this.entries[offset - this.base]!
      if (entry.record !== null && entry.timestamp >= timestamp) return offset
    }
    return end
  }

  /** Moves the log start offset forward (retention), releasing the array's dead prefix in bulk. */
  advanceStart(offset: number): void {
    const target = Math.min(offset, this.endOffset)
    for (let i = this.startOffset; i < target; i++) {
      const entry = this.entries[i - this.base]!
      this.bytes -= entry.size
      if (entry.record !== null) this.live--
    }
    if (target > this.startOffset) this.startOffset = target
    const dead = this.startOffset - this.base
    if (dead > TRIM_SLACK && dead * 2 > this.entries.length) {
      this.entries = this.entries.slice(dead)
      this.base = this.startOffset
    }
  }

  /** Removes one record (compaction): its offset stays taken, a fetch skips it. */
  remove(offset: number): void {
    const entry = this.entries[offset - this.base]
    if (!entry || entry.record === null) return
    entry.record = null
    this.bytes -= entry.size
    entry.size = 0
    this.live--
  }

  notify(): void {
    if (this.waiters.size === 0) return
    const waiters = [...this.waiters]
    this.waiters.clear()
    for (const wake of waiters) wake()
  }
}
