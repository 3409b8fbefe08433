/**
 * The one clock rule of every bench: a subject's clock stops when an observer outside the subject
 * sees its last record land, by asking the broker (the output topic's end offsets, or a group's
 * committed offsets), never when the subject says it is done. Every subject is observed the same way.
 */
import type { Admin } from '../../src/transport/types.js'
import type { Progress } from './progress.js'

/** A count the broker reports, compared with the count that means done. */
export type Observe = () => Promise<number>

/** Records in a topic: the sum of its partitions' log end offsets (read_uncommitted high watermarks). */
export function endOffsets(admin: Admin, topic: string): Observe {
  return async () => (await admin.listOffsets(topic, 'latest')).reduce((n, o) => n + o.offset, 0)
}

/**
 * Records of `topic` a group has committed (sum of its committed next-offsets). A group that has not
 * committed yet, or that the coordinator does not know yet, counts 0.
 */
export function committedOffsets(admin: Admin, group: string, topic: string): Observe {
  return async () => {
    const offsets = await admin.listGroupOffsets(group).catch(() => [])
    return offsets.filter((o) => o.topic === topic).reduce((n, o) => n + o.offset, 0)
  }
}

export interface WatchOptions {
  /** Time between two looks at the broker. @default 10 */
  pollMs?: number
  /** Fail when the count has not moved for this long. @default 60000 */
  stallMs?: number
  /** The subject's own failure, if it fails before it is done. */
  failed: () => Error | undefined
}

/**
 * Looks until `observe()` reaches `expected`; resolves with performance.now() at the moment the
 * completing answer arrived. The look's round trip (about a millisecond on loopback) and the poll
 * interval bound the clock's resolution, the same for every subject.
 */
export async function watchUntil(
  observe: Observe,
  expected: number,
  bar: Progress,
  options: WatchOptions,
): Promise<number> {
  const pollMs = options.pollMs ?? 10
  const stallMs = options.stallMs ?? 60_000
  let last = -1
  let movedAt = performance.now()
  for (;;) {
    const count = await observe()
    const now = performance.now()
    bar.set(Math.min(count, expected))
    if (count >= expected) return now
    const failure = options.failed()
    if (failure) throw failure
    if (count !== last) {
      last = count
      movedAt = now
    } else if (now - movedAt > stallMs) {
      throw new Error(`stalled at ${count} of ${expected} records for ${stallMs / 1000} s`)
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
}

/**
 * Waits (untimed, before a run) until every partition of a new topic has a leader that answers
 * ListOffsets, so that no subject's clock pays for the topic's creation with a metadata retry.
 */
export async function topicReady(admin: Admin, topic: string, partitions: number): Promise<void> {
  const deadline = performance.now() + 30_000
  for (;;) {
    const offsets = await admin.listOffsets(topic, 'latest').catch(() => [])
    if (offsets.length === partitions) return
    if (performance.now() > deadline) throw new Error(`topic ${topic} has no leaders after 30 s`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
