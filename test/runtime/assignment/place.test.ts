import assert from 'node:assert/strict'
import { test } from 'node:test'
import { place } from '../../../src/runtime/assignment/place.js'
import type { PlacementMember, PlacementUnit } from '../../../src/runtime/assignment/types.js'

const TOPICS = ['rides', 'vendors']

function m(memberId: string, owned: string[] = [], options: Partial<PlacementMember> = {}): PlacementMember {
  return { memberId, topics: new Set(TOPICS), owned: new Set(owned), taskOffsets: {}, ...options }
}

/** n one-task units of sub-topology `sub`, reading `topic`. */
function singles(n: number, sub = 0, topic = 'rides'): PlacementUnit[] {
  return Array.from({ length: n }, (_, p) => ({ id: `${sub}_${p}`, tasks: [`${sub}_${p}`], topics: [topic] }))
}

/** n units of two co-located tasks (sub-topologies 0 and 1, partition p). */
function pairs(n: number): PlacementUnit[] {
  return Array.from({ length: n }, (_, p) => ({ id: `0_${p}`, tasks: [`0_${p}`, `1_${p}`], topics: TOPICS }))
}

const sizes = (plan: Map<string, string[]>): number[] => [...plan.values()].map((ids) => ids.length)

test('fresh members share the tasks evenly', () => {
  const plan = place([m('a'), m('b'), m('c'), m('d')], singles(10))
  assert.deepEqual(sizes(plan), [3, 3, 2, 2])
  assert.deepEqual(new Set([...plan.values()].flat()).size, 10)
})

test('a joining member takes the fewest tasks that balance needs, one from each overloaded member', () => {
  const before = new Map([
    ['a', ['0_0', '0_1', '0_2']],
    ['b', ['0_3', '0_4', '0_5']],
  ])
  const plan = place([m('a', before.get('a')), m('b', before.get('b')), m('c')], singles(6))
  assert.deepEqual(sizes(plan), [2, 2, 2])
  for (const id of ['a', 'b']) assert.ok(plan.get(id)!.every((task) => before.get(id)!.includes(task)))
})

test('the tasks of a leaving member go to the others, who keep theirs', () => {
  const plan = place([m('b', ['0_2', '0_3']), m('c', ['0_4', '0_5'])], singles(6))
  assert.deepEqual(sizes(plan), [3, 3])
  assert.ok(['0_2', '0_3'].every((task) => plan.get('b')!.includes(task)))
  assert.ok(['0_4', '0_5'].every((task) => plan.get('c')!.includes(task)))
})

test('a balanced plan fed back in stays exactly as it is', () => {
  const first = place([m('a'), m('b'), m('c')], [...pairs(4), ...singles(5, 2, 'vendors')])
  const again = place(
    [...first].map(([id, tasks]) => m(id, tasks)),
    [...pairs(4), ...singles(5, 2, 'vendors')],
  )
  assert.deepEqual(again, first)
})

test('co-located tasks move as one unit and balance counts tasks, within the unit size', () => {
  const plan = place([m('a'), m('b'), m('c'), m('d')], pairs(6))
  assert.deepEqual(sizes(plan), [4, 4, 2, 2])
  for (const tasks of plan.values())
    for (const task of tasks.filter((t) => t.startsWith('0_')))
      assert.ok(tasks.includes(`1_${task.slice(2)}`))
})

test('with mixed unit sizes, no unit can move to a member that may take it and lower the larger load', () => {
  const units = [...pairs(3), ...singles(3, 2, 'vendors')]
  const plan = place([m('a', ['0_0', '1_0', '0_1', '1_1', '0_2', '1_2']), m('b')], units)
  // a keeps two pairs; b takes the singles and one pair: 5 - 4 <= 1 (b holds one-task units),
  // and 4 - 5 <= 2 (a holds only pairs). Moving another pair would make it 2 against 7.
  assert.deepEqual(sizes(plan), [4, 5])
  assert.equal(plan.get('b')!.filter((task) => !task.startsWith('2_')).length, 2)
})

test('an unowned task goes to the member with the most checkpointed state for it', () => {
  const plan = place(
    [
      m('a'),
      m('b', [], { taskOffsets: { '0_1': 500 } }),
      m('c', [], { taskOffsets: { '0_1': 900, '0_0': 3 } }),
    ],
    singles(3),
  )
  // c has the most state for 0_1 and for 0_0, but balance lets it keep only one: the larger.
  assert.deepEqual(plan.get('c'), ['0_1'])
  assert.deepEqual(sizes(plan), [1, 1, 1])
})

test('state does not outweigh balance: a member with state for every task still gets only its share', () => {
  const offsets = Object.fromEntries(singles(6).map((u, i) => [u.id, 100 + i]))
  const plan = place([m('a', [], { taskOffsets: offsets }), m('b')], singles(6))
  assert.deepEqual(sizes(plan), [3, 3])
  // The member with state keeps the tasks it has the most state for.
  assert.deepEqual(plan.get('a'), ['0_3', '0_4', '0_5'])
})

test('a member only gets tasks whose topics it subscribed to; a task nobody reads stays unassigned', () => {
  const units = [...singles(4, 0, 'rides'), ...singles(2, 1, 'vendors'), ...singles(1, 2, 'nobody')]
  const plan = place([m('a', [], { topics: new Set(['rides']) }), m('b')], units)
  assert.ok(plan.get('a')!.every((task) => task.startsWith('0_')))
  assert.deepEqual([...plan.values()].flat().sort(), ['0_0', '0_1', '0_2', '0_3', '1_0', '1_1'])
  assert.deepEqual(sizes(plan), [3, 3])
})

test('the same input in any order gives the same plan', () => {
  const members = [m('c', ['0_1']), m('a', [], { taskOffsets: { '0_4': 7 } }), m('b', ['0_5', '0_6', '0_7'])]
  const units = [...singles(8), ...singles(3, 1, 'vendors')]
  const plan = place(members, units)
  assert.deepEqual(place([...members].reverse(), [...units].reverse()), plan)
})

test('a co-located unit whose tasks two members owned stays with the one that owned most of them', () => {
  const units: PlacementUnit[] = [{ id: '0_0', tasks: ['0_0', '1_0', '2_0'], topics: TOPICS }]
  const plan = place([m('a', ['0_0']), m('b', ['1_0', '2_0'])], units)
  assert.deepEqual(plan.get('b'), ['0_0', '1_0', '2_0'])
})
