/**
 * The placement of standby replicas (Kafka Streams' standby tasks), after the active plan: each
 * task with stores gets up to `replicas` copies on members other than its active one that may run
 * it, never two on one member. Pure, decided in id order like place.ts.
 *
 * Stickiness first: a member that reported state for the task (a standby it held, or an active
 * task it gave up) keeps a copy, up to its fair share of all the copies; the rest go to the members
 * with the fewest copies, and copies move from a member to one with two fewer that may hold them
 * until none can. A member's fair share is the copies to place over the members, rounded
 * up, so that copies spread evenly and one member that held everything does not keep everything.
 */
import type { PlacementMember, TaskId } from './types.js'

/** A task as standby placement sees it: its id and the topics a member must read to run it. */
export interface StandbyCandidate {
  readonly id: TaskId
  readonly topics: readonly string[]
}

/** Each member's standby tasks (every member present, task ids in the order given). */
export function placeStandbys(
  members: readonly PlacementMember[],
  tasks: readonly StandbyCandidate[],
  active: ReadonlyMap<string, readonly TaskId[]>,
  replicas: number,
): Map<string, TaskId[]> {
  const ordered = [...members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  )
  const result = new Map(ordered.map((m) => [m.memberId, [] as TaskId[]]))
  if (replicas <= 0 || ordered.length < 2) return result
  const activeOf = new Map<TaskId, string>()
  for (const [memberId, ids] of active) for (const id of ids) activeOf.set(id, memberId)
  const held = new Map(ordered.map((m) => [m.memberId, new Set<TaskId>()]))
  const eligible = tasks.map((task) =>
    ordered.filter(
      (m) => m.memberId !== activeOf.get(task.id) && task.topics.every((topic) => m.topics.has(topic)),
    ),
  )
  const wanted = tasks.map((_, i) => Math.min(replicas, eligible[i]!.length))
  const total = wanted.reduce((a, b) => a + b, 0)
  const share = Math.ceil(total / ordered.length)
  const give = (i: number, m: PlacementMember): void => {
    held.get(m.memberId)!.add(tasks[i]!.id)
    wanted[i]!--
  }
  // Copies stay where the state is, most caught up first, within each member's share.
  tasks.forEach((task, i) => {
    const withState = eligible[i]!.filter((m) => (m.taskOffsets[task.id] ?? 0) > 0).sort(
      (a, b) => (b.taskOffsets[task.id] ?? 0) - (a.taskOffsets[task.id] ?? 0),
    )
    for (const m of withState) {
      if (wanted[i]! <= 0) break
      if (held.get(m.memberId)!.size < share) give(i, m)
    }
  })
  // The rest to the members with the fewest copies (ties: member id order).
  tasks.forEach((task, i) => {
    while (wanted[i]! > 0) {
      let to: PlacementMember | undefined
      for (const m of eligible[i]!) {
        const copies = held.get(m.memberId)!
        if (copies.has(task.id)) continue
        if (to === undefined || copies.size < held.get(to.memberId)!.size) to = m
      }
      if (to === undefined) break
      give(i, to)
    }
  })
  // Greedy in task order can leave a member two copies above one that could take a copy: move
  // copies there (those with no state where they are first) until no such move is left. Each move
  // lowers the sum of squared counts, so this ends.
  const index = new Map(tasks.map((task, i) => [task.id, i]))
  const stateAt = (m: PlacementMember, id: TaskId): number => m.taskOffsets[id] ?? 0
  for (let moved = true; moved;) {
    moved = false
    const byCount = [...ordered].sort((a, b) => held.get(b.memberId)!.size - held.get(a.memberId)!.size)
    search: for (const from of byCount) {
      const mine = held.get(from.memberId)!
      const ids = [...mine].sort((a, b) => stateAt(from, a) - stateAt(from, b))
      for (const id of ids)
        for (const to of eligible[index.get(id)!]!) {
          const theirs = held.get(to.memberId)!
          if (theirs.has(id) || theirs.size + 1 >= mine.size) continue
          mine.delete(id)
          theirs.add(id)
          moved = true
          break search
        }
    }
  }
  for (const m of ordered) {
    const copies = held.get(m.memberId)!
    result.set(
      m.memberId,
      tasks.filter((task) => copies.has(task.id)).map((task) => task.id),
    )
  }
  return result
}
