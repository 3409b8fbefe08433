/** Helpers for the task assignor tests: a seeded PRNG, subscriptions, and a reading of a plan. */
import { decodeAssignment, encodeSubscription } from '../../../src/runtime/assignment/user-data.js'
import type { SubscriptionInfo, TaskId } from '../../../src/runtime/assignment/types.js'
import type { MemberAssignment, MemberSubscription } from '../../../src/transport/types.js'

/** mulberry32: a tiny seeded PRNG, so a failing run is reproduced from the seed it prints. */
export function prng(seed: number): {
  next(): number
  int(min: number, max: number): number
  pick<T>(list: readonly T[]): T
  shuffle<T>(list: readonly T[]): T[]
} {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1))
  return {
    next,
    int,
    pick: (list) => list[int(0, list.length - 1)]!,
    shuffle(list) {
      const out = [...list]
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i)
        ;[out[i], out[j]] = [out[j]!, out[i]!]
      }
      return out
    },
  }
}

/** A member's subscription carrying task assignor user data. */
export function member(
  memberId: string,
  topics: readonly string[],
  info: Partial<SubscriptionInfo> = {},
  generation = -1,
): MemberSubscription {
  const data: SubscriptionInfo = {
    workerId: info.workerId ?? `worker-${memberId}`,
    url: info.url === undefined ? `http://${memberId}:8080` : info.url,
    ownedTasks: info.ownedTasks ?? [],
    taskOffsets: info.taskOffsets ?? {},
  }
  return { memberId, topics: [...topics], owned: [], generation, userData: encodeSubscription(data) }
}

/** The plan as task ids per member, read back through decodeAssignment. */
export function tasksOf(plan: ReadonlyMap<string, MemberAssignment>): Map<string, TaskId[]> {
  return new Map([...plan].map(([id, share]) => [id, [...decodeAssignment(share.userData).tasks.keys()]]))
}

/** The member each task is planned on. */
export function ownerOf(plan: ReadonlyMap<string, MemberAssignment>): Map<TaskId, string> {
  const owners = new Map<TaskId, string>()
  for (const [memberId, ids] of tasksOf(plan)) for (const id of ids) owners.set(id, memberId)
  return owners
}

export const counts = (entries: Record<string, number>): Map<string, number> =>
  new Map(Object.entries(entries))
