/** Checks of the sub-topologies the assignor is given: their shape, and their co-partitioning. */
import { TributaryError } from '../../errors.js'
import type { Subtopology } from './types.js'

/**
 * Throws INVALID_ARGUMENT when the sub-topologies cannot be assigned at all: an id that is not a
 * non-negative integer or is used twice, no source topic, or a topic read by two sub-topologies
 * (its partitions would belong to two tasks, and the group could give them to two members).
 */
export function validateSubtopologies(subtopologies: readonly Subtopology[]): void {
  const fail = (message: string): never => {
    throw new TributaryError('INVALID_ARGUMENT', `task assignor: ${message}`)
  }
  const ids = new Set<number>()
  const readers = new Map<string, number>()
  for (const sub of subtopologies) {
    if (!Number.isSafeInteger(sub.id) || sub.id < 0) fail(`sub-topology id ${sub.id} is not an integer >= 0`)
    if (ids.has(sub.id)) fail(`sub-topology id ${sub.id} is used twice`)
    ids.add(sub.id)
    if (sub.colocate !== undefined && !Number.isSafeInteger(sub.colocate))
      fail(`sub-topology ${sub.id}: co-location group ${sub.colocate} is not an integer`)
    if (sub.sourceTopics.length === 0) fail(`sub-topology ${sub.id} has no source topic`)
    for (const topic of sub.sourceTopics) {
      if (typeof topic !== 'string' || topic === '') fail(`sub-topology ${sub.id} has an empty topic name`)
      const other = readers.get(topic)
      if (other !== undefined)
        fail(`topic ${topic} is a source of sub-topologies ${other} and ${sub.id}; a topic feeds one`)
      readers.set(topic, sub.id)
    }
  }
}

/**
 * The co-partitioning faults, one sentence each: source topics of one sub-topology, or the
 * sub-topologies of one co-location group, with different partition counts. Their tasks cannot
 * see all records of a key together (a join misses matches). Empty when all is well.
 */
export function copartitionWarnings(
  subtopologies: readonly Subtopology[],
  partitionCounts: ReadonlyMap<string, number>,
): string[] {
  const warnings: string[] = []
  const count = (topic: string): number => partitionCounts.get(topic) ?? 0
  const tasks = new Map<number, Array<[number, number]>>()
  for (const sub of [...subtopologies].sort((a, b) => a.id - b.id)) {
    const topics = [...sub.sourceTopics].sort()
    const counts = new Set(topics.map(count))
    if (counts.size > 1) {
      const listed = topics.map((topic) => `${topic} (${count(topic)})`).join(', ')
      warnings.push(
        `sub-topology ${sub.id}: its source topics are read together, so they need the same partition count, but they have ${listed}`,
      )
    }
    if (sub.colocate === undefined) continue
    const list = tasks.get(sub.colocate) ?? []
    list.push([sub.id, Math.max(0, ...topics.map(count))])
    tasks.set(sub.colocate, list)
  }
  for (const [group, list] of tasks) {
    if (new Set(list.map(([, n]) => n)).size <= 1) continue
    const listed = list.map(([id, n]) => `${id} (${n} tasks)`).join(', ')
    warnings.push(
      `co-location group ${group}: its sub-topologies need the same partition count, but they have ${listed}; the extra tasks are placed alone`,
    )
  }
  return warnings
}

/** Throws INVALID_PARTITIONS naming every co-partitioning fault, for a check at start. */
export function validateCopartitioning(
  subtopologies: readonly Subtopology[],
  partitionCounts: ReadonlyMap<string, number>,
): void {
  const warnings = copartitionWarnings(subtopologies, partitionCounts)
  if (warnings.length > 0) throw new TributaryError('INVALID_PARTITIONS', warnings.join('; '))
}
