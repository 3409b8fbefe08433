/**
 * Restoring a store from its changelog partition (Kafka Streams' StoreChangelogReader, one task at
 * a time): from the store's checkpoint, or the beginning, to the end the changelog had when the
 * restore began (the last stable offset under exactly-once, so that records of open or aborted
 * transactions are never applied). It runs on a consumer of its own with no group, so neither the
 * group's rebalance callbacks nor the other tasks wait for it; each poll's records are one batch
 * written to the bytes store.
 */
import type { Consumer } from '../transport/types.js'
import type { BytesStore, StoreWrite } from './types.js'

/** What a restore has done so far: shown in /stats and /metrics, and logged. */
export interface RestoreProgress {
  readonly topic: string
  readonly partition: number
  /** The first changelog offset restored, and the end restored to. */
  readonly from: number
  readonly end: number
  restored: number
  startedAt: number
  finishedAt: number | undefined
}

export interface RestoreRun {
  readonly store: BytesStore
  readonly consumer: Consumer
  readonly progress: RestoreProgress
  readonly now: () => number
  /** True once the task is closing: the restore stops where it is (its next owner goes on). */
  readonly cancelled: () => boolean
  /** Called about every `everyMs` with the progress, for the log. */
  readonly report?: (progress: RestoreProgress) => void
  readonly everyMs?: number
  /** A poll failed: true to go on after a pause (a transient fault), false to give up (it is thrown). */
  readonly retry: (error: unknown) => boolean
  readonly pause: () => Promise<void>
}

/** Restores until the consumer's position reaches `progress.end`; resolves with the offset reached. */
export async function restoreStore(run: RestoreRun): Promise<number> {
  const { store, consumer, progress } = run
  const tp = { topic: progress.topic, partition: progress.partition }
  if (progress.from >= progress.end) return progress.from
  await consumer.assign([{ ...tp, from: progress.from }])
  let reportedAt = run.now()
  let position = progress.from
  while (position < progress.end && !run.cancelled()) {
    let records
    try {
      records = await consumer.poll({ timeoutMs: 200, maxRecords: 10_000 })
    } catch (error) {
      if (!run.retry(error)) throw error
      await run.pause()
      continue
    }
    const batch: StoreWrite[] = []
    for (const r of records) {
      // Records past the end are the new owner's writes: the task itself wrote them, after the restore.
      if (r.offset >= progress.end) break
      if (r.key !== null) batch.push({ key: r.key, value: r.value })
    }
    store.write(batch)
    progress.restored += batch.length
    position = Math.max(position, consumer.position(tp) ?? position)
    if (records.length > 0) position = Math.max(position, records[records.length - 1]!.offset + 1)
    if (run.report && run.now() - reportedAt >= (run.everyMs ?? 10_000)) {
      reportedAt = run.now()
      run.report(progress)
    }
  }
  return Math.min(position, progress.end)
}
