/**
 * The default group assignor of both transports: topic-partitions, balanced (member loads differ by
 * at most one where subscriptions allow) and sticky (a partition stays with its owner unless that
 * owner has more than its share), like Kafka's CooperativeStickyAssignor. The cooperative hand-over
 * is not done here but by `cooperative()`, over any assignor's answer.
 */
import type { GroupAssignor, MemberAssignment, MemberSubscription, TopicPartition } from '../types.js'

export const STICKY_PROTOCOL = 'tributary-cooperative-sticky'

const key = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`
const byId = (a: { memberId: string }, b: { memberId: string }): number =>
  a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0

/**
 * Who owns what now. A partition claimed twice (only after a lost membership) goes to the claim of
 * the newest generation; the older claimant's membership is gone.
 */
export function currentOwners(members: readonly MemberSubscription[]): Map<string, string> {
  const owner = new Map<string, { memberId: string; generation: number }>()
  for (const m of [...members].sort(byId)) {
    for (const tp of m.owned) {
      const current = owner.get(key(tp))
      if (!current || m.generation > current.generation)
        owner.set(key(tp), { memberId: m.memberId, generation: m.generation })
    }
  }
  return new Map([...owner].map(([k, o]) => [k, o.memberId]))
}

/** Every member's partitions: sticky where balance allows, then balanced by moving the fewest. */
export function stickyAssign(
  members: readonly MemberSubscription[],
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const sorted = [...members].sort(byId)
  const subscribed = new Map(sorted.map((m) => [m.memberId, new Set(m.topics)]))
  const eligible = (memberId: string, tp: TopicPartition): boolean =>
    subscribed.get(memberId)?.has(tp.topic) === true
  const owner = currentOwners(sorted)
  const all: TopicPartition[] = []
  for (const topic of [...partitionCounts.keys()].sort()) {
    if (!sorted.some((m) => subscribed.get(m.memberId)!.has(topic))) continue
    for (let partition = 0; partition < (partitionCounts.get(topic) ?? 0); partition++)
      all.push({ topic, partition })
  }
  const target = new Map<string, TopicPartition[]>(sorted.map((m) => [m.memberId, []]))
  const unowned: TopicPartition[] = []
  for (const tp of all) {
    const o = owner.get(key(tp))
    if (o !== undefined && eligible(o, tp)) target.get(o)!.push(tp)
    else unowned.push(tp)
  }
  for (const tp of unowned) {
    let best: string | undefined
    for (const m of sorted) {
      if (!eligible(m.memberId, tp)) continue
      if (best === undefined || target.get(m.memberId)!.length < target.get(best)!.length) best = m.memberId
    }
    if (best !== undefined) target.get(best)!.push(tp)
  }
  // Balance: move from a member with at least two more than another that could take one. Each move
  // lowers the sum of squared counts, so this ends. Partitions just handed out move first.
  for (let moved = true; moved;) {
    moved = false
    const byCount = [...sorted].sort(
      (a, b) => target.get(b.memberId)!.length - target.get(a.memberId)!.length,
    )
    outer: for (const from of byCount) {
      const list = target.get(from.memberId)!
      const candidates = [
        ...list.filter((tp) => owner.get(key(tp)) !== from.memberId),
        ...list.filter((tp) => owner.get(key(tp)) === from.memberId).reverse(),
      ]
      for (const tp of candidates) {
        for (const to of [...byCount].reverse()) {
          if (to === from || !eligible(to.memberId, tp)) continue
          if (target.get(to.memberId)!.length + 2 > list.length) continue
          list.splice(list.indexOf(tp), 1)
          target.get(to.memberId)!.push(tp)
          moved = true
          break outer
        }
      }
    }
  }
  return target
}

/** The default assignor: sticky topic-partitions, no user data. */
export const stickyAssignor: GroupAssignor = {
  name: STICKY_PROTOCOL,
  assign(members, partitionCounts): Map<string, MemberAssignment> {
    const plan = stickyAssign(members, partitionCounts)
    return new Map([...plan].map(([id, partitions]) => [id, { partitions, userData: null }]))
  },
}
