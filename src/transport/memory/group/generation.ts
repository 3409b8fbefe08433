/**
 * Forming a generation, as Kafka's classic protocol does with the broker only relaying: every
 * member "rejoins" with its subscription (topics, owned partitions, the generation it got them in,
 * and the user data its assignor gives now), the leader's assignor plans the assignment, and the
 * cooperative pass withholds the partitions that must first be revoked by their owner (KIP-429).
 */
import { cooperativeAssign } from '../../group/cooperative.js'
import type { MemberAssignment, MemberSubscription } from '../../types.js'
import type { Member } from './member.js'
import { sortedTps, tpKey } from '../util.js'

export interface FormedGeneration {
  leader: Member
  assignments: Map<string, MemberAssignment>
  /** tpKeys of the partitions withheld until their owner revoked them. */
  withheld: Set<string>
}

/** The member whose code threw (its userData() or, for the leader, assign()), and what it threw. */
export interface FailedGeneration {
  failed: Member
  error: unknown
}

/** The leader is the longest-standing member (Kafka keeps the first joiner until it leaves). */
export function leaderOf(members: readonly Member[]): Member | undefined {
  let leader: Member | undefined
  for (const m of members) if (!leader || m.seq < leader.seq) leader = m
  return leader
}

/** Runs the members' assignors; never throws (a failure is returned and reported to its member). */
export function formGeneration(
  members: readonly Member[],
  catalog: ReadonlyMap<string, number>,
): FormedGeneration | FailedGeneration {
  const leader = leaderOf(members)!
  const subscriptions: MemberSubscription[] = []
  const counts = new Map<string, number>()
  for (const member of members) {
    let userData: Buffer | null
    try {
      userData = member.assignor.userData?.() ?? null
      if (userData !== null && !Buffer.isBuffer(userData))
        throw new TypeError(`assignor ${member.assignor.name}: userData() must return a Buffer or null`)
    } catch (error) {
      return { failed: member, error }
    }
    for (const topic of member.topics) counts.set(topic, catalog.get(topic) ?? 0)
    const owned = sortedTps(member.owned.values())
    subscriptions.push({
      memberId: member.id,
      ...(member.instanceId !== undefined ? { instanceId: member.instanceId } : {}),
      topics: [...member.topics].sort(),
      owned,
      generation: owned.length > 0 ? member.ownedGeneration : -1,
      userData,
    })
  }
  try {
    const plan = cooperativeAssign(leader.assignor, subscriptions, counts)
    for (const [memberId, share] of plan.assignments) {
      if (share.userData !== null && share.userData !== undefined && !Buffer.isBuffer(share.userData))
        throw new TypeError(
          `assignor ${leader.assignor.name} gave ${memberId} user data that is not a Buffer or null`,
        )
    }
    const withheld = new Set(plan.withheld.map((tp) => tpKey(tp.topic, tp.partition)))
    return { leader, assignments: plan.assignments, withheld }
  } catch (error) {
    return { failed: leader, error }
  }
}
