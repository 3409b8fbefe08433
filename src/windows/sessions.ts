/**
 * Session merging (Kafka Streams' SessionWindows): a record at `t` joins every session of its key
 * that ends at or after `t - gap` and starts at or before `t + gap`; they become one session from
 * the earliest start to the latest end, `t` included. A record that bridges two sessions merges
 * them; a record further than `gap` from all of them opens a session `[t, t]`.
 */
import type { TimeWindow } from './kinds.js'

export interface SessionMerge {
  /** The session the record belongs to now. */
  readonly session: TimeWindow
  /** The existing sessions it absorbed (their state merges into `session`; they leave the store). */
  readonly absorbed: readonly TimeWindow[]
}

export function mergeSessions(existing: readonly TimeWindow[], t: number, gap: number): SessionMerge {
  let start = t
  let end = t
  const absorbed: TimeWindow[] = []
  for (const s of existing) {
    if (s.end >= t - gap && s.start <= t + gap) {
      absorbed.push(s)
      if (s.start < start) start = s.start
      if (s.end > end) end = s.end
    }
  }
  return { session: { start, end }, absorbed }
}
