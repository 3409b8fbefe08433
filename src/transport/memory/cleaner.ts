/**
 * Lazy log maintenance, run on append, fetch and listOffsets (never on a timer, so an idle broker
 * keeps no process alive): retention for cleanup.policy=delete, key compaction for compact. Both
 * follow Kafka's timing rather than acting at once, so records do not vanish sooner than on a broker:
 * retention waits for the retention check interval, compaction never touches the active segment.
 */
import type { PartitionLog } from './log.js'

/** Applies retention and, when enough of the log is dirty (or a wait ran out), a compaction pass. */
export function maintain(log: PartitionLog, now: number): void {
  const config = log.config
  if (config.deletePolicy) enforceRetention(log, now)
  if (!config.compactPolicy) return
  if ((log.dirty > 0 && log.dirty >= config.minCleanableDirtyRatio * log.live) || now >= log.nextCleanAt)
    compact(log, now)
}

/**
 * retention.ms and retention.bytes remove records from the log start only, as Kafka deletes whole
 * segments from the start: the log start offset moves forward, consumers behind it are out of range.
 * Kafka looks every log.retention.check.interval.ms, so a record stays readable that long after its
 * append even when its timestamp is already past retention (a replay of old data, a test's t=1000).
 */
function enforceRetention(log: PartitionLog, now: number): void {
  const { retentionMs, retentionBytes } = log.config
  const checked = now - log.settings.retentionCheckIntervalMs
  const end = log.endOffset
  let start = log.startOffset
  if (retentionMs >= 0) {
    const cutoff = now - retentionMs
    for (let entry = log.entryAt(start); start < end; entry = log.entryAt(++start)) {
      if (entry!.timestamp >= cutoff || entry!.appendTime > checked) break
    }
  }
  if (retentionBytes >= 0) {
    let bytes = log.bytes
    for (let offset = log.startOffset; offset < start; offset++) bytes -= log.entryAt(offset)!.size
    for (
      let entry = log.entryAt(start);
      start < end && bytes > retentionBytes;
      entry = log.entryAt(++start)
    ) {
      if (entry!.appendTime > checked) break
      bytes -= entry!.size
    }
  }
  if (start > log.startOffset) log.advanceStart(start)
}

/**
 * The first offset compaction may not touch: the last stable offset, the active segment (appended
 * within segment.ms, or in the last segment.bytes; at least the last entry), and records younger than
 * min.compaction.lag.ms.
 */
function firstUncleanable(log: PartitionLog, now: number): number {
  const { segmentMs, segmentBytes, minCompactionLagMs } = log.config
  const rolledBytes = Math.floor(log.appendedBytes / segmentBytes) * segmentBytes
  const byTime = log.bisect((e) => e.appendTime > now - segmentMs)
  const bySize = log.bisect((e) => e.position >= rolledBytes)
  let limit = Math.min(log.lastStableOffset, Math.max(byTime, bySize), log.endOffset - 1)
  if (minCompactionLagMs > 0) limit = Math.min(limit, log.offsetForTimestamp(now - minCompactionLagMs + 1))
  return Math.max(limit, log.startOffset)
}

/**
 * Keeps the latest record of each key below the first uncleanable offset, drops records of aborted
 * transactions, and drops tombstones appended more than delete.retention.ms ago. Offsets never
 * change; markers stay.
 */
function compact(log: PartitionLog, now: number): void {
  const config = log.config
  const start = log.startOffset
  const limit = firstUncleanable(log, now)
  const keys: Array<string | null> = new Array<string | null>(limit - start).fill(null)
  const latest = new Map<string, number>()
  for (let offset = start; offset < limit; offset++) {
    const entry = log.entryAt(offset)!
    const key = entry.record?.key
    if (!key || entry.txn?.state === 'aborted') continue
    const text = key.toString('latin1')
    keys[offset - start] = text
    latest.set(text, offset)
  }
  for (let offset = start; offset < limit; offset++) {
    const entry = log.entryAt(offset)!
    if (entry.record === null) continue
    const key = keys[offset - start]
    // Kafka's cleaner also discards keyless records (written before the topic became compacted).
    if (key === null || key === undefined || latest.get(key) !== offset) log.remove(offset)
    else if (entry.record.value === null && now - entry.appendTime >= config.deleteRetentionMs)
      log.remove(offset)
  }
  log.dirty = 0
  // Wake up again when the first uncleanable entry leaves the active segment or its lag, not before.
  const next = log.entryAt(limit)
  let at = next ? next.appendTime + config.segmentMs : Infinity
  if (next && config.minCompactionLagMs > 0) at = Math.min(at, next.timestamp + config.minCompactionLagMs)
  log.nextCleanAt = at > now ? at : Infinity
}
