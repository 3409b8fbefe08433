/**
 * The working state of one placement (see place.ts): which member holds which unit, the loads,
 * and what each member may run, owned, and has state for, indexed once so the moves stay cheap.
 */
import type { PlacementMember, PlacementUnit, TaskId } from './types.js'
import { compareTaskIds } from './task-ids.js'

/** Per member and unit: may it run the unit, how many of its tasks it owned, its state for them. */
interface Fit {
  readonly may: boolean
  readonly owns: number
  readonly state: number
}

/** True when rank `a` sorts before rank `b` (compared element by element); anything beats none. */
export const better = (a: readonly number[], b: readonly number[] | undefined): boolean => {
  if (b === undefined) return true
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!
  return false
}

/** Members and units by index, in id order; `held[m]` are the units on member m. */
export class Placement {
  readonly members: readonly PlacementMember[]
  readonly units: readonly PlacementUnit[]
  readonly fit: readonly (readonly Fit[])[]
  readonly load: number[]
  readonly held: Array<Set<number>>

  constructor(members: readonly PlacementMember[], units: readonly PlacementUnit[]) {
    this.members = [...members].sort((a, b) =>
      a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
    )
    this.units = [...units].sort((a, b) => compareTaskIds(a.id, b.id))
    this.fit = this.units.map((unit) =>
      this.members.map((m): Fit => {
        let owns = 0
        let state = 0
        for (const task of unit.tasks) {
          if (m.owned.has(task)) owns++
          state += m.taskOffsets[task] ?? 0
        }
        return { may: unit.topics.every((topic) => m.topics.has(topic)), owns, state }
      }),
    )
    this.load = this.members.map(() => 0)
    this.held = this.members.map(() => new Set<number>())
  }

  /** A unit's number of tasks: what it adds to a load. */
  size(u: number): number {
    return this.units[u]!.tasks.length
  }

  /** Puts unit u on member m. */
  give(m: number, u: number): void {
    this.held[m]!.add(u)
    this.load[m]! += this.size(u)
  }

  /** Moves unit u from one member to another. */
  move(from: number, to: number, u: number): void {
    this.held[from]!.delete(u)
    this.load[from]! -= this.size(u)
    this.give(to, u)
  }

  /** The member that owned most of the unit's tasks and may still run it (ties: smallest id). */
  owner(u: number): number | undefined {
    let owner: number | undefined
    this.fit[u]!.forEach((f, m) => {
      if (f.may && f.owns > 0 && (owner === undefined || f.owns > this.fit[u]![owner]!.owns)) owner = m
    })
    return owner
  }

  /** Would moving unit u from `from` to `to` lower the larger of their loads? (The balance test.) */
  improves(from: number, to: number, u: number): boolean {
    return to !== from && this.fit[u]![to]!.may && this.load[to]! + this.size(u) < this.load[from]!
  }

  /** True when no improving move starts or ends at member m: the balance of every pair with m. */
  balancedAround(m: number): boolean {
    for (let other = 0; other < this.members.length; other++) {
      for (const u of this.held[m]!) if (this.improves(m, other, u)) return false
      for (const u of this.held[other]!) if (this.improves(other, m, u)) return false
    }
    return true
  }

  /** Each member's task ids, sorted. */
  result(): Map<string, TaskId[]> {
    return new Map(
      this.members.map((m, i) => [
        m.memberId,
        [...this.held[i]!].flatMap((u) => this.units[u]!.tasks).sort(compareTaskIds),
      ]),
    )
  }
}
