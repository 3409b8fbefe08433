/**
 * The group's partition assignor: balanced (member loads differ by at most one when all members
 * subscribe to the same topics) and sticky (a partition stays with its owner when balance allows),
 * like Kafka's uniform and cooperative-sticky assignors, so a rebalance moves as few partitions as it can.
 */
import type { TopicPartition } from '../types.js'
import { compareTp, tpKey } from './util.js'

export interface AssignorMember {
  id: string
  topics: ReadonlySet<string>
  /** The partitions the member was given by the previous assignment (tpKey). */
  previous: ReadonlySet<string>
}

/**
 * Assigns every partition of the subscribed topics. `partitionCounts` holds the existing topics;
 * topics a member subscribes to that do not exist contribute nothing.
 */
export function assignPartitions(
  members: readonly AssignorMember[],
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const ordered = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const result = new Map<string, TopicPartition[]>(ordered.map((m) => [m.id, []]))
  const wanted = new Set<string>()
  for (const member of ordered)
    for (const topic of member.topics) if (partitionCounts.has(topic)) wanted.add(topic)
  const partitions: TopicPartition[] = []
  for (const topic of wanted) {
    for (let partition = 0; partition < partitionCounts.get(topic)!; partition++)
      partitions.push({ topic, partition })
  }
  partitions.sort(compareTp)
  if (ordered.length === 0) return result

  const floor = Math.floor(partitions.length / ordered.length)
  let extra = partitions.length % ordered.length
  const previousOwner = new Map<string, AssignorMember>()
  for (const member of ordered) for (const key of member.previous) previousOwner.set(key, member)

  // Pass 1, stickiness: a partition stays with its previous owner up to that owner's fair share.
  const unassigned: TopicPartition[] = []
  for (const tp of partitions) {
    const owner = previousOwner.get(tpKey(tp.topic, tp.partition))
    const load = owner ? result.get(owner.id)!.length : 0
    if (owner && owner.topics.has(tp.topic) && (load < floor || (load === floor && extra > 0))) {
      if (load === floor) extra--
      result.get(owner.id)!.push(tp)
    } else {
      unassigned.push(tp)
    }
  }
  // Pass 2, balance: the rest go to the least loaded member subscribed to the topic.
  for (const tp of unassigned) {
    let best: AssignorMember | undefined
    for (const member of ordered) {
      if (!member.topics.has(tp.topic)) continue
      if (!best || result.get(member.id)!.length < result.get(best.id)!.length) best = member
    }
    if (best) result.get(best.id)!.push(tp)
  }
  for (const list of result.values()) list.sort(compareTp)
  return result
}
