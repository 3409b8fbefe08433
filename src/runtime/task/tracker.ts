/**
 * Offset tracking for one source partition of a task: which records are fully done, and so which
 * offset may be committed (at-least-once).
 *
 * Invariant: `committable()` is the offset after the longest prefix of fetched records that are
 * done. A record is done when (1) every processor of the task that reads it is done with it (asked
 * for the record after it, or its operators dropped it), and (2) every output sent while it was
 * being processed was acknowledged. Holds count both: one per processor, one per pending output. Offsets need not be contiguous (transaction
 * markers and compaction leave gaps), so the order of hand-out is kept, not arithmetic on offsets.
 */

import Denque from 'denque'
import type { ConsumedRecord } from '../../transport/types.js'

export interface TrackedEntry {
  readonly record: ConsumedRecord
  holds: number
}

export class OffsetTracker {
  /** The entries not yet done, in hand-out order (a ring: a record costs no array growth here). */
  readonly #entries = new Denque<TrackedEntry>()
  /** The offset after the done prefix; undefined until a record is done (nothing to commit yet). */
  #next: number | undefined

  /** A record enters the task, held once by each of `processors`. Returns its entry, to release later. */
  hand(record: ConsumedRecord, processors = 1): TrackedEntry {
    const entry = { record, holds: processors }
    this.#entries.push(entry)
    return entry
  }

  /** Adds a hold (an output in flight) to entries still being processed. */
  hold(entries: TrackedEntry | readonly TrackedEntry[]): void {
    if (!Array.isArray(entries)) (entries as TrackedEntry).holds++
    else for (const e of entries as readonly TrackedEntry[]) e.holds++
  }

  /** Releases one hold of each entry; drops the done prefix. */
  release(entries: TrackedEntry | readonly TrackedEntry[]): void {
    if (!Array.isArray(entries)) (entries as TrackedEntry).holds--
    else for (const e of entries as readonly TrackedEntry[]) e.holds--
    const queue = this.#entries
    for (let first = queue.peekFront(); first !== undefined && first.holds <= 0; first = queue.peekFront()) {
      this.#next = first.record.offset + 1
      queue.shift()
    }
  }

  /** The offset to commit: every record before it is done. */
  committable(): number | undefined {
    return this.#next
  }

  /** Records fetched and not yet done. */
  inFlight(): number {
    return this.#entries.length
  }

  /** The first record not yet done, if any: where a failed worker stops. */
  firstPending(): number | undefined {
    return this.#entries.peekFront()?.record.offset
  }
}
