import assert from 'node:assert/strict'
import { test } from 'node:test'
import { placeStandbys } from '../../../src/runtime/assignment/standbys.js'
import { TaskAssignor } from '../../../src/runtime/assignment/task-assignor.js'
import type { PlacementMember, Subtopology } from '../../../src/runtime/assignment/types.js'
import { decodeAssignment } from '../../../src/runtime/assignment/user-data.js'
import { counts, member, tasksOf } from './helpers.js'

function m(memberId: string, taskOffsets: Record<string, number> = {}, topics = ['likes']): PlacementMember {
  return { memberId, topics: new Set(topics), owned: new Set(), taskOffsets }
}

const tasks = (n: number, topic = 'likes') =>
  Array.from({ length: n }, (_, p) => ({ id: `0_${p}`, topics: [topic] }))

/** Where each task's copies went. */
function copiesOf(plan: Map<string, string[]>): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const [memberId, ids] of plan) for (const id of ids) out.set(id, [...(out.get(id) ?? []), memberId])
  return out
}

test('each task gets its copies on members other than its active one, spread evenly', () => {
  const active = new Map([
    ['a', ['0_0', '0_1']],
    ['b', ['0_2', '0_3']],
    ['c', ['0_4', '0_5']],
  ])
  const plan = placeStandbys([m('a'), m('b'), m('c')], tasks(6), active, 1)
  const copies = copiesOf(plan)
  for (const [memberId, ids] of active)
    for (const id of ids) {
      assert.equal(copies.get(id)?.length, 1, `${id} has one copy`)
      assert.notEqual(copies.get(id)![0], memberId, `${id}'s copy is not on its active member`)
    }
  assert.deepEqual(
    [...plan.values()].map((ids) => ids.length),
    [2, 2, 2],
  )
})

test('two replicas on three members: every other member holds a copy, never two of one task', () => {
  const active = new Map([
    ['a', ['0_0']],
    ['b', ['0_1']],
    ['c', ['0_2']],
  ])
  const copies = copiesOf(placeStandbys([m('a'), m('b'), m('c')], tasks(3), active, 2))
  assert.deepEqual(copies.get('0_0'), ['b', 'c'])
  assert.deepEqual(copies.get('0_1'), ['a', 'c'])
  assert.deepEqual(copies.get('0_2'), ['a', 'b'])
})

test('more replicas than other members: as many copies as there are members to hold them', () => {
  const active = new Map([
    ['a', ['0_0']],
    ['b', ['0_1']],
  ])
  const copies = copiesOf(placeStandbys([m('a'), m('b')], tasks(2), active, 3))
  assert.deepEqual(copies.get('0_0'), ['b'])
  assert.deepEqual(copies.get('0_1'), ['a'])
  assert.deepEqual(copiesOf(placeStandbys([m('a')], tasks(2), new Map([['a', ['0_0', '0_1']]]), 1)).size, 0)
})

test('no replicas, no copies', () => {
  const plan = placeStandbys([m('a'), m('b')], tasks(2), new Map([['a', ['0_0', '0_1']]]), 0)
  assert.deepEqual([...plan.values()].flat(), [])
})

test('a copy stays on the member that holds state for the task, the most caught-up one first', () => {
  const active = new Map([
    ['a', ['0_0', '0_1']],
    ['b', []],
    ['c', []],
    ['d', []],
  ])
  const members = [m('a'), m('b'), m('c', { '0_1': 50 }), m('d', { '0_0': 900, '0_1': 10 })]
  const copies = copiesOf(placeStandbys(members, tasks(2), active, 1))
  assert.deepEqual(copies.get('0_0'), ['d'])
  assert.deepEqual(copies.get('0_1'), ['c'])
})

test('a member that held state for every task keeps only its share of the copies', () => {
  const active = new Map([
    ['a', ['0_0', '0_1', '0_2', '0_3']],
    ['b', []],
    ['c', []],
  ])
  const all = { '0_0': 5, '0_1': 5, '0_2': 5, '0_3': 5 }
  const plan = placeStandbys([m('a'), m('b', all), m('c')], tasks(4), active, 1)
  assert.deepEqual(plan.get('b'), ['0_0', '0_1'])
  assert.deepEqual(plan.get('c'), ['0_2', '0_3'])
})

test('a member that does not read the task’s topics holds no copy of it', () => {
  const active = new Map([['a', ['0_0']]])
  const plan = placeStandbys([m('a'), m('b', {}, ['other']), m('c')], tasks(1), active, 1)
  assert.deepEqual(plan.get('b'), [])
  assert.deepEqual(plan.get('c'), ['0_0'])
})

test('the task assignor gives copies of tasks with stores only, and each member reads its own', () => {
  const subtopologies: Subtopology[] = [
    { id: 0, sourceTopics: ['likes'], stores: [{ name: 'counts' }] },
    { id: 1, sourceTopics: ['clicks'] },
  ]
  const assignor = new TaskAssignor({
    subtopologies: () => subtopologies,
    self: () => ({ workerId: 'w', url: null, ownedTasks: [], taskOffsets: {} }),
    standbyReplicas: 1,
    onWarning: () => undefined,
  })
  const plan = assignor.assign(
    [member('m-1', ['likes', 'clicks']), member('m-2', ['likes', 'clicks'])],
    counts({ likes: 4, clicks: 4 }),
  )
  const active = tasksOf(plan)
  const standbys = new Map([...plan].map(([id, share]) => [id, decodeAssignment(share.userData).standbys]))
  for (const [id, copies] of standbys) {
    assert.ok(copies.length > 0, `${id} keeps copies`)
    for (const task of copies) {
      assert.match(task, /^0_/, 'only tasks with stores have copies')
      assert.ok(!active.get(id)!.includes(task), `${task} is not copied onto its own member`)
    }
  }
  assert.deepEqual([...standbys.values()].flat().sort(), ['0_0', '0_1', '0_2', '0_3'])
  // Without standbys the assignment reads as before: no copies.
  const none = new TaskAssignor({
    subtopologies: () => subtopologies,
    self: () => ({ workerId: 'w', url: null, ownedTasks: [], taskOffsets: {} }),
    onWarning: () => undefined,
  }).assign(
    [member('m-1', ['likes', 'clicks']), member('m-2', ['likes', 'clicks'])],
    counts({ likes: 4, clicks: 4 }),
  )
  for (const share of none.values()) assert.deepEqual(decodeAssignment(share.userData).standbys, [])
})

test('after a failover the task goes to the member whose copy is most caught up', () => {
  const subtopologies: Subtopology[] = [{ id: 0, sourceTopics: ['likes'], stores: [{ name: 'counts' }] }]
  const assignor = new TaskAssignor({
    subtopologies: () => subtopologies,
    self: () => ({ workerId: 'w', url: null, ownedTasks: [], taskOffsets: {} }),
    standbyReplicas: 1,
    onWarning: () => undefined,
  })
  // m-1 (gone) ran 0_0; m-3 kept a copy of it; m-2 and m-3 own one task each.
  const plan = tasksOf(
    assignor.assign(
      [
        member('m-2', ['likes'], { ownedTasks: ['0_1'], taskOffsets: { '0_1': 100 } }),
        member('m-3', ['likes'], { ownedTasks: ['0_2'], taskOffsets: { '0_2': 100, '0_0': 4_000 } }),
      ],
      counts({ likes: 3 }),
    ),
  )
  assert.ok(plan.get('m-3')!.includes('0_0'), `0_0 goes to the standby: ${JSON.stringify([...plan])}`)
})
