import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TASK_ASSIGNOR_PROTOCOL, TaskAssignor } from '../../../src/runtime/assignment/task-assignor.js'
import type { Subtopology } from '../../../src/runtime/assignment/types.js'
import { decodeAssignment, decodeSubscription } from '../../../src/runtime/assignment/user-data.js'
import { TributaryError } from '../../../src/errors.js'
import { counts, member, ownerOf, tasksOf } from './helpers.js'
import { SimGroup } from './sim-group.js'

const RIDES = 'rides'
const BY_VENDOR = 'rides-by-vendor-repartition'
/** The count-per-vendor example: rides re-keyed through a repartition topic, the two co-located. */
const COUNT_PER_VENDOR: Subtopology[] = [
  { id: 0, sourceTopics: [RIDES], colocate: 0 },
  { id: 1, sourceTopics: [BY_VENDOR], colocate: 0 },
]
const SIX = counts({ [RIDES]: 6, [BY_VENDOR]: 6 })

const assignor = (subtopologies: Subtopology[] = COUNT_PER_VENDOR, warnings: string[] = []): TaskAssignor =>
  new TaskAssignor({
    subtopologies: () => subtopologies,
    self: () => ({ workerId: 'w-self', url: null, ownedTasks: [], taskOffsets: {} }),
    onWarning: (message) => warnings.push(message),
  })

const partitionOwner = (plan: Map<string, { partitions: Array<{ topic: string; partition: number }> }>) => {
  const owners = new Map<string, string>()
  for (const [id, share] of plan)
    for (const tp of share.partitions) owners.set(`${tp.topic}[${tp.partition}]`, id)
  return owners
}

test('two workers of the count-per-vendor app own rides[p] and its repartition partition [p] together', () => {
  const group = new SimGroup(assignor(), SIX)
  group.join('m-1', [RIDES, BY_VENDOR])
  group.join('m-2', [RIDES, BY_VENDOR])
  const { plan, withheld } = group.rebalance()
  assert.deepEqual(withheld, [])
  const owners = partitionOwner(plan)
  assert.equal(owners.size, 12)
  for (let p = 0; p < 6; p++)
    assert.equal(owners.get(`${RIDES}[${p}]`), owners.get(`${BY_VENDOR}[${p}]`), `partition ${p}`)
  assert.deepEqual(
    [...plan.values()].map((share) => share.partitions.length),
    [6, 6],
  )
  // And still together after a third worker joins and one of the first two leaves.
  group.join('m-3', [RIDES, BY_VENDOR])
  group.rebalance()
  group.rebalance()
  group.leave('m-1')
  const last = partitionOwner(group.rebalance().plan)
  for (let p = 0; p < 6; p++)
    assert.equal(last.get(`${RIDES}[${p}]`), last.get(`${BY_VENDOR}[${p}]`), `partition ${p}`)
})

test('every member gets the whole host map, so any worker finds the owner of a partition', () => {
  const plan = assignor().assign(
    [member('m-1', [RIDES, BY_VENDOR]), member('m-2', [RIDES, BY_VENDOR], { url: null })],
    SIX,
  )
  const [one, two] = [...plan.values()].map((share) => decodeAssignment(share.userData))
  assert.deepEqual([...one!.hosts], [...two!.hosts])
  assert.deepEqual([...one!.hosts.keys()], ['http://m-1:8080'])
  const mine = plan.get('m-1')!.partitions
  assert.deepEqual(
    [...one!.hosts.get('http://m-1:8080')!].sort(
      (a, b) => a.partition - b.partition || a.topic.localeCompare(b.topic),
    ),
    [...mine].sort((a, b) => a.partition - b.partition || a.topic.localeCompare(b.topic)),
  )
  for (const tp of mine) assert.equal(two!.hostOf(tp.topic, tp.partition), 'http://m-1:8080')
  assert.deepEqual(one!.workers, ['worker-m-1', 'worker-m-2'])
})

test('a joining worker gets its tasks after the owner revoked them, and no task runs on two workers', () => {
  const group = new SimGroup(assignor(), SIX)
  group.join('m-1', [RIDES, BY_VENDOR])
  group.rebalance()
  assert.equal(group.members.get('m-1')!.active.length, 12)
  group.join('m-2', [RIDES, BY_VENDOR])
  const handover = group.rebalance()
  // The plan already moves three units; the transport withholds them while m-1 revokes.
  assert.equal(tasksOf(handover.plan).get('m-2')!.length, 6)
  assert.equal(handover.withheld.length, 6)
  assert.deepEqual(group.members.get('m-2')!.active, [])
  assert.equal(group.members.get('m-1')!.active.length, 6)
  group.runners()
  const followUp = group.rebalance()
  assert.deepEqual(followUp.withheld, [])
  assert.deepEqual(tasksOf(followUp.plan), tasksOf(handover.plan), 'the follow-up keeps the plan')
  assert.equal(group.members.get('m-2')!.active.length, 6)
  assert.equal(group.runners().size, 12)
})

test('when two members claim a task, the claim of the higher generation wins', () => {
  const plan = assignor().assign(
    [
      member('m-old', [RIDES, BY_VENDOR], { ownedTasks: ['0_0', '1_0', '0_1', '1_1'] }, 4),
      member('m-new', [RIDES, BY_VENDOR], { ownedTasks: ['0_0', '1_0', '0_2', '1_2'] }, 7),
    ],
    SIX,
  )
  const owners = ownerOf(plan)
  assert.equal(owners.get('0_0'), 'm-new')
  assert.equal(owners.get('0_1'), 'm-old')
  assert.equal(owners.get('0_2'), 'm-new')
})

test('a member whose user data is not ours is refused, naming the member', () => {
  const bad = { ...member('m-9', [RIDES]), userData: Buffer.from('hello') }
  assert.throws(
    () => assignor().assign([member('m-1', [RIDES, BY_VENDOR]), bad], SIX),
    (e: unknown) => e instanceof TributaryError && /subscription of member m-9/.test(e.message),
  )
})

test('a member without user data joins with no history and still gets its share', () => {
  const plan = assignor().assign(
    [member('m-1', [RIDES, BY_VENDOR]), { ...member('m-2', [RIDES, BY_VENDOR]), userData: null }],
    SIX,
  )
  assert.deepEqual(
    [...tasksOf(plan).values()].map((ids) => ids.length),
    [6, 6],
  )
})

test('a member that reads only some topics gets only tasks of those topics', () => {
  const subs: Subtopology[] = [
    { id: 0, sourceTopics: [RIDES] },
    { id: 1, sourceTopics: ['prices'] },
  ]
  const warnings: string[] = []
  const plan = assignor(subs, warnings).assign(
    [member('m-1', [RIDES]), member('m-2', [RIDES, 'prices'])],
    counts({ [RIDES]: 4, prices: 2 }),
  )
  const tasks = tasksOf(plan)
  assert.ok(tasks.get('m-1')!.every((id) => id.startsWith('0_')))
  assert.deepEqual(
    [...tasks.values()].map((ids) => ids.length),
    [3, 3],
  )
  assert.deepEqual(warnings, [])
})

test('co-partitioning faults and tasks nobody can run are told to onWarning and kept in warnings', () => {
  const subs: Subtopology[] = [
    { id: 0, sourceTopics: ['orders', 'payments'] },
    { id: 1, sourceTopics: ['audit'] },
  ]
  const warnings: string[] = []
  const a = assignor(subs, warnings)
  const plan = a.assign([member('m-1', ['orders', 'payments'])], counts({ orders: 3, payments: 2, audit: 1 }))
  assert.equal(warnings.length, 2)
  assert.match(warnings[0]!, /orders \(3\), payments \(2\)/)
  assert.match(warnings[1]!, /tasks 1_0; they stay unassigned/)
  assert.deepEqual(a.warnings, warnings)
  assert.deepEqual(tasksOf(plan).get('m-1'), ['0_0', '0_1', '0_2'])
  assert.deepEqual(plan.get('m-1')!.partitions.length, 5)
})

test('malformed sub-topologies are refused at assignment', () => {
  assert.throws(
    () => assignor([{ id: 0, sourceTopics: [] }]).assign([member('m-1', [RIDES])], SIX),
    /sub-topology 0 has no source topic/,
  )
})

test('the assignor names its protocol and advertises what self() says', () => {
  const self = { workerId: 'w-1', url: 'http://h:1', ownedTasks: ['0_3'], taskOffsets: { '0_3': 42 } }
  const a = new TaskAssignor({ subtopologies: () => COUNT_PER_VENDOR, self: () => self })
  assert.equal(a.name, TASK_ASSIGNOR_PROTOCOL)
  assert.equal(a.name, 'tributary-tasks-v1')
  assert.deepEqual(decodeSubscription(a.userData()), self)
})
