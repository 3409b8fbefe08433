/**
 * The cooperative hand-over (KIP-429), applied by both transports to any assignor's answer: a
 * partition that the plan moves from its live owner to another member is given to nobody in this
 * generation. The owner, whose new assignment lacks it, revokes it (onRevoked commits under the
 * generation it is still a member of) and joins again; the next generation gives it to its new
 * owner, which starts exactly at what the old owner committed. So no partition ever has two owners
 * that may both commit it.
 */
import type { GroupAssignor, MemberAssignment, MemberSubscription, TopicPartition } from '../types.js'
import { currentOwners } from './sticky-assignor.js'

const key = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`

export interface CooperativePlan {
  /** What each member gets now (withheld partitions removed). */
  assignments: Map<string, MemberAssignment>
  /** Partitions withheld this generation because their owner must revoke them first. */
  withheld: TopicPartition[]
}

/**
 * Runs the assignor and withholds moving partitions. Also guards the assignor's answer: a partition
 * given to two members, to a member that does not subscribe to its topic, or beyond its topic's
 * partition count is an assignor bug and is refused here, loudly, rather than applied.
 */
export function cooperativeAssign(
  assignor: GroupAssignor,
  members: readonly MemberSubscription[],
  partitionCounts: ReadonlyMap<string, number>,
): CooperativePlan {
  const plan = assignor.assign(members, partitionCounts)
  const owners = currentOwners(members)
  const subscribed = new Map(members.map((m) => [m.memberId, new Set(m.topics)]))
  const given = new Map<string, string>()
  const assignments = new Map<string, MemberAssignment>()
  const withheld: TopicPartition[] = []
  for (const m of members) {
    const share = plan.get(m.memberId) ?? { partitions: [], userData: null }
    const kept: TopicPartition[] = []
    for (const tp of share.partitions) {
      const k = key(tp)
      const twice = given.get(k)
      if (twice !== undefined)
        throw new Error(`assignor ${assignor.name} gave ${k} to both ${twice} and ${m.memberId}`)
      if (!subscribed.get(m.memberId)?.has(tp.topic) || tp.partition >= (partitionCounts.get(tp.topic) ?? 0))
        throw new Error(`assignor ${assignor.name} gave ${k} to ${m.memberId}, which cannot take it`)
      given.set(k, m.memberId)
      const owner = owners.get(k)
      if (owner === undefined || owner === m.memberId) kept.push(tp)
      else withheld.push(tp)
    }
    assignments.set(m.memberId, { partitions: kept, userData: share.userData })
  }
  return { assignments, withheld }
}
