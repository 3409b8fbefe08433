/**
 * The placement of tasks on members: a pure function of its input, decided in id order, so every
 * leader computes the same plan from the same group.
 *
 * Balance, precisely. A member's load is its number of tasks; what moves is a unit (a task, or the
 * tasks of one partition of a co-location group). The plan is balanced when no unit can move to
 * another member that may run it and lower the larger of the two loads: for every unit u on member
 * A and every other member B subscribed to u's topics, load(A) - load(B) <= size(u). So with
 * one-task units and members that all read every topic, loads differ by at most one; with units all
 * of size s, by at most s (unit counts by at most one); a member holding a one-task unit is never
 * more than one task above a member that could take it. (With members reading different topic
 * sets, a chain of moves could sometimes do better; single moves are what this promises.)
 *
 * Stickiness. Every unit first stays with its previous owner (the member that owned most of its
 * tasks) if that member may still run it; units with no owner go to the member with the most
 * checkpointed state for them, else to the least loaded. Then, while the plan is not balanced, one
 * unit moves, the cheapest first: fewest tasks taken from their previous owner, then least state
 * left behind, then off the most loaded member. So a rebalance after members join or leave moves
 * the fewest tasks that balance needs, and a balanced plan fed back in stays exactly as it is.
 */
import type { PlacementMember, PlacementUnit, TaskId } from './types.js'
import { compareTaskIds } from './task-ids.js'

/** Per member and unit: may it run the unit, how many of its tasks it owned, its state for them. */
interface Fit {
  may: boolean
  owns: number
  state: number
}

/** Lexicographic comparison of ranks: negative when `a` is better (smaller). */
const better = (a: readonly number[], b: readonly number[] | undefined): boolean => {
  if (b === undefined) return true
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!
  return false
}

/** Each member's tasks (every member present, task ids sorted); units nobody may run are left out. */
export function place(
  members: readonly PlacementMember[],
  units: readonly PlacementUnit[],
): Map<string, TaskId[]> {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
  const ordered = [...units].sort((a, b) => compareTaskIds(a.id, b.id))
  const fit = ordered.map((unit) =>
    sorted.map((m): Fit => {
      const may = unit.topics.every((topic) => m.topics.has(topic))
      const owns = unit.tasks.filter((task) => m.owned.has(task)).length
      const state = unit.tasks.reduce((sum, task) => sum + (m.taskOffsets[task] ?? 0), 0)
      return { may, owns, state }
    }),
  )
  const load = sorted.map(() => 0)
  const held = sorted.map(() => new Set<number>())
  const size = (u: number): number => ordered[u]!.tasks.length
  const give = (m: number, u: number): void => {
    held[m]!.add(u)
    load[m]! += size(u)
  }
  // Where a unit would go among `candidates` (member indexes), by a rank per member; smallest wins.
  const pick = (candidates: number[], rank: (m: number) => number[]): number | undefined => {
    let best: number | undefined
    let bestRank: number[] | undefined
    for (const m of candidates) {
      const r = rank(m)
      if (better(r, bestRank)) [best, bestRank] = [m, r]
    }
    return best
  }
  const orphans: number[] = []
  for (let u = 0; u < ordered.length; u++) {
    const owners = sorted.map((_, m) => m).filter((m) => fit[u]![m]!.may && fit[u]![m]!.owns > 0)
    const owner = pick(owners, (m) => [-fit[u]![m]!.owns])
    if (owner === undefined) orphans.push(u)
    else give(owner, u)
  }
  // Larger units first, as in bin packing: the small ones then even out what they leave.
  orphans.sort((a, b) => size(b) - size(a) || a - b)
  for (const u of orphans) {
    const eligible = sorted.map((_, m) => m).filter((m) => fit[u]![m]!.may)
    const to = pick(eligible, (m) => [-fit[u]![m]!.state, load[m]!])
    if (to !== undefined) give(to, u)
  }
  // Each move lowers the sum of squared loads (load(to) + size < load(from)), so this ends.
  for (;;) {
    let move: { from: number; to: number; unit: number } | undefined
    let moveRank: number[] | undefined
    for (let from = 0; from < sorted.length; from++) {
      for (const u of held[from]!) {
        const f = fit[u]!
        const targets = sorted
          .map((_, m) => m)
          .filter((m) => m !== from && f[m]!.may && load[m]! + size(u) < load[from]!)
        const to = pick(targets, (m) => [-f[m]!.owns, -f[m]!.state, load[m]!])
        if (to === undefined) continue
        const rank = [f[from]!.owns - f[to]!.owns, f[from]!.state - f[to]!.state, -load[from]!]
        if (better(rank, moveRank)) [move, moveRank] = [{ from, to, unit: u }, rank]
      }
    }
    if (move === undefined) break
    held[move.from]!.delete(move.unit)
    load[move.from]! -= size(move.unit)
    give(move.to, move.unit)
  }
  return new Map(
    sorted.map((m, i) => [m.memberId, [...held[i]!].flatMap((u) => ordered[u]!.tasks).sort(compareTaskIds)]),
  )
}
