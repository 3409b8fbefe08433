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
 * unit moves: fewest tasks off their owner first, from the most to the least loaded member, leaving
 * the least state behind. Last, a unit that moved goes back to its owner wherever the plan stays
 * balanced. So after members join or leave, no task could return to its previous owner with the plan
 * still balanced (with units of one size and members that all read everything, that is exactly the
 * fewest moves balance needs), and a balanced plan fed back in stays exactly as it is.
 */
import { better, Placement } from './placement.js'
import type { PlacementMember, PlacementUnit, TaskId } from './types.js'

/** Each member's tasks (every member present, task ids sorted); units nobody may run are left out. */
export function place(
  members: readonly PlacementMember[],
  units: readonly PlacementUnit[],
): Map<string, TaskId[]> {
  const p = new Placement(members, units)
  const indexes = p.members.map((_, m) => m)
  const orphans: number[] = []
  p.units.forEach((_, u) => {
    const owner = p.owner(u)
    if (owner === undefined) orphans.push(u)
    else p.give(owner, u)
  })
  // Larger units first, as in bin packing: the small ones then even out what they leave.
  orphans.sort((a, b) => p.size(b) - p.size(a) || a - b)
  for (const u of orphans) {
    let to: number | undefined
    let toRank: number[] | undefined
    for (const m of indexes.filter((m) => p.fit[u]![m]!.may)) {
      const rank = [-p.fit[u]![m]!.state, p.load[m]!]
      if (better(rank, toRank)) [to, toRank] = [m, rank]
    }
    if (to !== undefined) p.give(to, u)
  }
  // Each move lowers the sum of squared loads (load(to) + size < load(from)), so this ends.
  for (let move = bestMove(p); move !== undefined; move = bestMove(p)) p.move(...move)
  // Balancing moves one unit at a time, so a member may give a unit early and end up lighter than
  // the member that took it: give such units back. Each return puts a unit on its owner for good.
  for (let returned = true; returned;) {
    returned = false
    for (const [holder, set] of p.held.entries())
      for (const u of [...set]) {
        const owner = p.owner(u)
        if (owner === undefined || owner === holder) continue
        p.move(holder, owner, u)
        if (p.balancedAround(owner) && p.balancedAround(holder)) returned = true
        else p.move(owner, holder, u)
      }
  }
  return p.result()
}

/**
 * The cheapest improving move, or none when the plan is balanced: fewest tasks taken off their
 * owner, then off the most loaded member, onto the least loaded, leaving the least state behind.
 * Scalars, not rank arrays: this runs once per move over every member, unit and target.
 */
function bestMove(p: Placement): [number, number, number] | undefined {
  let best: [number, number, number] | undefined
  let b0 = 0
  let b1 = 0
  let b2 = 0
  let b3 = 0
  // Targets lightest first, so the scan of a unit stops at the first member too heavy to take it.
  const byLoad = p.members.map((_, m) => m).sort((a, b) => p.load[a]! - p.load[b]! || a - b)
  const lightest = p.load[byLoad[0]!] ?? 0
  for (let from = 0; from < p.members.length; from++) {
    const load = p.load[from]!
    if (load - lightest < 2) continue // no unit (size >= 1) can go anywhere from here
    for (const u of p.held[from]!) {
      const size = p.size(u)
      if (load - size <= lightest) continue
      const f = p.fit[u]!
      for (const to of byLoad) {
        if (p.load[to]! + size >= load) break
        if (to === from || !f[to]!.may) continue
        const r0 = f[from]!.owns - f[to]!.owns
        const r1 = -load
        const r2 = p.load[to]!
        const r3 = f[from]!.state - f[to]!.state
        if (
          best === undefined ||
          r0 < b0 ||
          (r0 === b0 && (r1 < b1 || (r1 === b1 && (r2 < b2 || (r2 === b2 && r3 < b3)))))
        ) {
          best = [from, to, u]
          b0 = r0
          b1 = r1
          b2 = r2
          b3 = r3
        }
      }
    }
  }
  return best
}
