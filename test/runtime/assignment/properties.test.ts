/**
 * Property tests of the task assignor over hundreds of random apps and groups, each run through
 * several generations (thousands of member sets in all) of joins, leaves and lost members (zombies
 * that rejoin with stale claims), with the transport's cooperative pass in between. A failure names
 * its seed; rerun just that scenario with TRIBUTARY_ASSIGNMENT_SEED=<seed>.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TaskAssignor } from '../../../src/runtime/assignment/task-assignor.js'
import type { Subtopology, TaskId } from '../../../src/runtime/assignment/types.js'
import { decodeSubscription, encodeSubscription } from '../../../src/runtime/assignment/user-data.js'
import type { GroupAssignor, MemberAssignment, MemberSubscription } from '../../../src/transport/types.js'
import { prng } from './helpers.js'
import { claims, oracle, scenario, type Scenario } from './scenario.js'
import { SimGroup, type SimMember } from './sim-group.js'

/** How many random groups; raise it for a longer soak (TRIBUTARY_ASSIGNMENT_SCENARIOS). */
const SCENARIOS = Number(process.env.TRIBUTARY_ASSIGNMENT_SCENARIOS ?? 250)
type Rng = ReturnType<typeof prng>

const samePlan = (a: Map<string, MemberAssignment>, b: Map<string, MemberAssignment>, what: string): void => {
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), what)
  for (const [id, share] of a)
    assert.ok(share.userData!.equals(b.get(id)!.userData!), `${what}: member ${id}`)
}

/** Every property of one generation's plan. Returns the task moves it counted (for the summary). */
function check(
  s: Scenario,
  subscriptions: MemberSubscription[],
  plan: Map<string, MemberAssignment>,
  tasks: Map<string, TaskId[]>,
  assignor: GroupAssignor,
  rng: Rng,
): number {
  const { unitOf, units, partitionsOf } = oracle(s)
  const topicsOf = new Map(subscriptions.map((m) => [m.memberId, new Set(m.topics)]))
  const may = (memberId: string, unit: string): boolean =>
    [...units.get(unit)!.topics].every((t) => topicsOf.get(memberId)!.has(t))
  const owner = new Map<TaskId, string>()
  for (const [memberId, ids] of tasks) {
    for (const id of ids) {
      assert.ok(!owner.has(id), `task ${id} planned on ${owner.get(id)} and ${memberId}`)
      assert.ok(may(memberId, unitOf.get(id)!), `task ${id} on ${memberId}, which does not read its topics`)
      owner.set(id, memberId)
    }
    const expected = ids.flatMap((id) => partitionsOf.get(id)!).sort()
    const given = plan
      .get(memberId)!
      .partitions.map((tp) => `${tp.topic}[${tp.partition}]`)
      .sort()
    assert.deepEqual(given, expected, `the partitions of ${memberId} are those of its tasks`)
  }
  for (const [key, unit] of units) {
    const eligible = subscriptions.some((m) => may(m.memberId, key))
    const holders = new Set(unit.tasks.map((id) => owner.get(id)))
    assert.equal(holders.size, 1, `the tasks of ${key} (${unit.tasks.join(', ')}) are together`)
    assert.equal(holders.has(undefined), !eligible, `${key} is assigned iff some member may run it`)
  }
  // Balance as place.ts defines it: no unit could move to a member that may take it and lower the larger load.
  const load = new Map([...tasks].map(([id, ids]) => [id, ids.length]))
  const unitsOn = new Map([...tasks].map(([id, ids]) => [id, new Set(ids.map((task) => unitOf.get(task)!))]))
  const improving = (a: string, key: string, b: string): boolean =>
    b !== a && may(b, key) && load.get(a)! - load.get(b)! > units.get(key)!.tasks.length
  // A move that would lower the larger load, among pairs with a member of `around` (default: all).
  const everyone = [...unitsOn.keys()]
  const unbalanced = (around = everyone): string | undefined => {
    for (const [a, keys] of unitsOn)
      for (const key of keys)
        for (const b of around.includes(a) ? everyone : around)
          if (improving(a, key, b)) return `${a} (${load.get(a)}) could give ${key} to ${b} (${load.get(b)})`
    return undefined
  }
  const shift = (key: string, from: string, to: string): void => {
    const size = units.get(key)!.tasks.length
    unitsOn.get(from)!.delete(key)
    unitsOn.get(to)!.add(key)
    load.set(from, load.get(from)! - size)
    load.set(to, load.get(to)! + size)
  }
  const fault = unbalanced()
  assert.equal(fault, undefined, `unbalanced: ${fault}`)
  // Stickiness: count tasks taken from a live previous owner that may still run them.
  const previous = claims(subscriptions)
  let moved = 0
  const ownedUnits = new Map<string, number>(subscriptions.map((m) => [m.memberId, 0]))
  for (const [key, unit] of units) {
    const from = previous.get(unit.tasks[0]!)
    if (from === undefined || !topicsOf.has(from) || !may(from, key)) continue
    ownedUnits.set(from, ownedUnits.get(from)! + 1)
    const to = owner.get(unit.tasks[0]!)!
    if (to === from) continue
    moved += unit.tasks.length
    // Moving it back must unbalance the plan, or the move was not needed.
    shift(key, to, from)
    assert.notEqual(unbalanced([from, to]), undefined, `${key} moved from ${from} to ${to} for nothing`)
    shift(key, from, to)
  }
  if (s.uniform) {
    const loads = [...load.values()]
    assert.ok(
      Math.max(...loads) - Math.min(...loads) <= s.unitSize,
      `loads ${loads.join(' ')} differ by more than ${s.unitSize}`,
    )
    // The fewest moves: members keep up to their quota (floor or, for the r with most, ceil of N/M units).
    const n = units.size
    const m = subscriptions.length
    const floor = Math.floor(n / m)
    const owned = [...ownedUnits.values()].sort((x, y) => y - x)
    const minimum = owned.reduce((sum, u, i) => sum + Math.max(0, u - floor - (i < n % m ? 1 : 0)), 0)
    assert.equal(moved, minimum * s.unitSize, `moved ${moved} tasks; the minimum is ${minimum * s.unitSize}`)
  }
  // Deterministic: the same group in another order gives the same bytes to every member.
  samePlan(plan, assignor.assign(rng.shuffle(subscriptions), s.partitionCounts), 'same input, shuffled')
  return moved
}

/** The assignor under test, for the sub-topologies of a scenario. */
const taskAssignor = (subtopologies: Subtopology[]): TaskAssignor =>
  new TaskAssignor({
    subtopologies: () => subtopologies,
    self: () => ({ workerId: 'unused', url: null, ownedTasks: [], taskOffsets: {} }),
    onWarning: () => {},
  })

function run(
  seed: number,
  makeAssignor: (subtopologies: Subtopology[]) => GroupAssignor = taskAssignor,
): { generations: number; moved: number } {
  const rng = prng(seed)
  const s = scenario(rng)
  const assignor = makeAssignor(s.subtopologies)
  const group = new SimGroup(assignor, s.partitionCounts)
  let next = 0
  const join = (): void => {
    const id = `m-${((rng.int(0, 0xffff) << 8) | next++).toString(16)}`
    const topics = s.uniform || rng.next() < 0.5 ? s.topics : s.topics.filter(() => rng.next() < 0.7)
    group.join(id, topics, rng.next() < 0.8 ? `http://${id}:6066` : null)
  }
  for (let i = rng.int(1, 12); i > 0; i--) join()
  const zombies: SimMember[] = []
  let generations = 0
  let moved = 0
  let runners = new Map<TaskId, string>()
  for (let round = rng.int(3, 7); round > 0; round--) {
    const { plan, tasks, withheld, subscriptions } = group.rebalance()
    generations++
    moved += check(s, subscriptions, plan, tasks, assignor, rng)
    // A task that ran elsewhere in the previous generation may run here only if its owner left the group.
    const now = group.runners()
    for (const [task, id] of now) {
      const before = runners.get(task)
      assert.ok(
        before === undefined || before === id || !group.members.has(before),
        `task ${task} went from live ${before} to ${id} without a hand-over`,
      )
    }
    runners = now
    if (withheld.length > 0) {
      // The follow-up rebalance is the plan fed back in, with the same members: it must keep it.
      const followUp = group.rebalance()
      generations++
      assert.deepEqual(followUp.withheld, [], 'the follow-up rebalance hands every withheld partition over')
      samePlan(plan, followUp.plan, 'the follow-up rebalance keeps the plan')
      runners = group.runners()
    } else {
      // Stable: a balanced plan fed back in, with no change of members, moves nothing.
      samePlan(plan, assignor.assign(group.subscriptions(), s.partitionCounts), 'the plan fed back in')
    }
    // Between rounds: members close, are lost (to rejoin later with stale claims), or join.
    for (const id of [...group.members.keys()]) {
      const roll = rng.next()
      if (roll < 0.15) group.leave(id)
      else if (roll < 0.2) zombies.push(group.leave(id))
    }
    for (const zombie of [...zombies])
      if (rng.next() < 0.3 && group.members.size < 12) {
        group.rejoin(zombie)
        zombies.splice(zombies.indexOf(zombie), 1)
      }
    for (let i = rng.int(0, 3); i > 0 && group.members.size < 12; i--) join()
    if (group.members.size === 0) join()
  }
  return { generations, moved }
}

test(`the assignor is balanced, sticky, co-locating, complete and deterministic over ${SCENARIOS} random groups`, () => {
  const only = process.env.TRIBUTARY_ASSIGNMENT_SEED
  const seeds = only ? [Number(only)] : Array.from({ length: SCENARIOS }, (_, i) => i + 1)
  let generations = 0
  let moved = 0
  for (const seed of seeds) {
    try {
      const result = run(seed)
      generations += result.generations
      moved += result.moved
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      throw new Error(`seed ${seed} (rerun with TRIBUTARY_ASSIGNMENT_SEED=${seed}): ${message}`, {
        cause: error,
      })
    }
  }
  assert.ok(generations >= seeds.length * 3)
  console.log(`${seeds.length} groups, ${generations} generations, ${moved} tasks moved`)
  assert.ok(only || moved > 0, 'the scenarios include moves')
})

test('the same checks reject an assignor that is balanced but forgets who owned what', () => {
  // The real assignor, fed subscriptions whose claims were wiped: every plan is balanced and
  // deterministic, yet moves tasks for nothing (or flaps between a hand-over and its follow-up).
  // The checks must say so, or they prove nothing. Groups that never change cannot show it.
  const forgetful = (subtopologies: Subtopology[]): GroupAssignor => {
    const inner = taskAssignor(subtopologies)
    return {
      name: inner.name,
      assign: (members, partitionCounts) =>
        inner.assign(
          members.map((m) => {
            const info = decodeSubscription(m.userData!)
            return { ...m, userData: encodeSubscription({ ...info, ownedTasks: [] }) }
          }),
          partitionCounts,
        ),
    }
  }
  const failures = Array.from({ length: 30 }, (_, i) => i + 1).filter((seed) => {
    try {
      run(seed, forgetful)
      return false
    } catch (error) {
      assert.match(
        String(error),
        /for nothing|the minimum is|hands every withheld|keeps the plan|fed back in/,
      )
      return true
    }
  })
  assert.ok(failures.length >= 8, `only seeds ${failures.join(', ')} caught the forgetful assignor`)
})
