/** Who owned each task before this rebalance, from the members' claims in their user data. */
import type { TaskId } from './types.js'

/** One member's claim: the tasks its latest assignment gave it, and the generation of that assignment. */
export interface TaskClaim {
  readonly memberId: string
  /** The generation of the member's subscription (-1 when it owns nothing). */
  readonly generation: number
  readonly ownedTasks: readonly TaskId[]
}

/**
 * The previous owner of every claimed task. Two members claim one task only after a membership was
 * lost (a session expired, the group moved on without the member and it rejoins with its old
 * tasks): the claim of the highest generation is the live one. Equal generations (which a correct
 * group never produces) go to the smallest member id, so the answer is still deterministic.
 */
export function previousOwners(claims: readonly TaskClaim[]): Map<TaskId, string> {
  const best = new Map<TaskId, TaskClaim>()
  const sorted = [...claims].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
  for (const claim of sorted) {
    for (const task of claim.ownedTasks) {
      const current = best.get(task)
      if (current === undefined || claim.generation > current.generation) best.set(task, claim)
    }
  }
  return new Map([...best].map(([task, claim]) => [task, claim.memberId]))
}
