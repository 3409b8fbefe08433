/**
 * The one clock rule of every bench: a subject's clock stops when an observer outside the subject
 * sees its last record land, by asking the broker (the output topic's end offsets, or a group's
 * committed offsets), never when the subject says it is done. Every subject is observed the same way,
 * from a process of its own (observer.ts), so the looking costs no subject its event loop.
 */
import type { Admin } from '../../src/transport/types.js'

/** What the observer counts, in a form that crosses a process boundary. */
export type Observation =
  { kind: 'end-offsets'; topic: string } | { kind: 'committed'; group: string; topic: string }

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
    // Not stable: offsets count once their transaction committed, and an open one delays no look.
    const offsets = await admin.listGroupOffsets(group, { stable: false }).catch(() => [])
    return offsets.filter((o) => o.topic === topic).reduce((n, o) => n + o.offset, 0)
  }
}

export function observe(admin: Admin, observation: Observation): Observe {
  return observation.kind === 'end-offsets'
    ? endOffsets(admin, observation.topic)
    : committedOffsets(admin, observation.group, observation.topic)
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

/** Wall-clock milliseconds with performance.now()'s resolution, comparable between processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now()
