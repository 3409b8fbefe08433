/** Random apps for the task assignor's property tests, and an independent reading of their tasks. */
import { decodeSubscription } from '../../../src/runtime/assignment/user-data.js'
import type { Subtopology, TaskId } from '../../../src/runtime/assignment/types.js'
import type { MemberSubscription } from '../../../src/transport/types.js'
import type { prng } from './helpers.js'

type Rng = ReturnType<typeof prng>

/** A random app: its sub-topologies, topic sizes, and whether every member reads everything with units of one size. */
export interface Scenario {
  subtopologies: Subtopology[]
  partitionCounts: Map<string, number>
  topics: string[]
  /** Every member reads every topic and every unit has `unitSize` tasks: the minimum of moves is known. */
  uniform: boolean
  unitSize: number
}

export function scenario(rng: Rng): Scenario {
  const subtopologies: Subtopology[] = []
  const partitionCounts = new Map<string, number>()
  const uniform = rng.next() < 0.4
  const addSub = (colocate: number | undefined, count: number, exact: boolean): void => {
    const id = subtopologies.length
    const sourceTopics = Array.from({ length: rng.int(1, 2) }, (_, j) => `t${id}-${j}`)
    for (const topic of sourceTopics) {
      const faulty = !exact && rng.next() < 0.1
      partitionCounts.set(topic, faulty ? rng.pick([0, rng.int(1, 24)]) : count)
    }
    subtopologies.push(colocate === undefined ? { id, sourceTopics } : { id, sourceTopics, colocate })
  }
  let unitSize = 1
  if (uniform) {
    unitSize = rng.pick([1, 1, 2, 3])
    const groups = unitSize === 1 ? rng.int(1, 6) : rng.int(1, Math.floor(6 / unitSize))
    for (let g = 0; g < groups; g++) {
      const count = rng.int(1, 24)
      for (let i = 0; i < unitSize; i++) addSub(unitSize > 1 ? g : undefined, count, true)
    }
  } else {
    const subs = rng.int(1, 6)
    for (let i = 0; i < subs; i++) {
      const colocated = rng.next() < 0.4
      const group = rng.int(0, 1)
      const previous = subtopologies.find((s) => s.colocate === group)
      const count =
        colocated && previous && rng.next() < 0.8
          ? Math.max(...previous.sourceTopics.map((t) => partitionCounts.get(t)!))
          : rng.int(1, 24)
      addSub(colocated ? group : undefined, count, false)
    }
  }
  return { subtopologies, partitionCounts, topics: [...partitionCounts.keys()], uniform, unitSize }
}

/** The units as the test sees them, computed here independently of src/: task id -> unit key, and each unit's tasks and topics. */
export function oracle(s: Scenario) {
  const unitOf = new Map<TaskId, string>()
  const units = new Map<string, { tasks: TaskId[]; topics: Set<string> }>()
  const partitionsOf = new Map<TaskId, string[]>()
  for (const sub of s.subtopologies) {
    const n = Math.max(...sub.sourceTopics.map((t) => s.partitionCounts.get(t) ?? 0))
    for (let p = 0; p < n; p++) {
      const id = `${sub.id}_${p}`
      const topics = sub.sourceTopics.filter((t) => (s.partitionCounts.get(t) ?? 0) > p)
      partitionsOf.set(
        id,
        topics.map((t) => `${t}[${p}]`),
      )
      const key = sub.colocate === undefined ? id : `group ${sub.colocate} partition ${p}`
      unitOf.set(id, key)
      const unit = units.get(key) ?? { tasks: [], topics: new Set<string>() }
      unit.tasks.push(id)
      for (const t of topics) unit.topics.add(t)
      units.set(key, unit)
    }
  }
  return { unitOf, units, partitionsOf }
}

/** The previous owner of each task, from the claims in the subscriptions: highest generation, then smallest id. */
export function claims(subscriptions: readonly MemberSubscription[]): Map<TaskId, string> {
  const best = new Map<TaskId, { id: string; generation: number }>()
  for (const sub of subscriptions) {
    for (const task of decodeSubscription(sub.userData!).ownedTasks) {
      const b = best.get(task)
      if (!b || sub.generation > b.generation || (sub.generation === b.generation && sub.memberId < b.id))
        best.set(task, { id: sub.memberId, generation: sub.generation })
    }
  }
  return new Map([...best].map(([task, b]) => [task, b.id]))
}
