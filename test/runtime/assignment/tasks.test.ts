import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTasks, buildUnits } from '../../../src/runtime/assignment/tasks.js'
import {
  copartitionWarnings,
  validateCopartitioning,
  validateSubtopologies,
} from '../../../src/runtime/assignment/validate.js'
import { TributaryError } from '../../../src/errors.js'
import { counts } from './helpers.js'

test('a sub-topology has one task per partition of its largest source topic, reading partition p of each', () => {
  const tasks = buildTasks(
    [{ id: 0, sourceTopics: ['orders', 'payments'] }],
    counts({ orders: 3, payments: 2 }),
  )
  assert.deepEqual(
    tasks.map((t) => [t.id, t.partitions.map((tp) => `${tp.topic}[${tp.partition}]`)]),
    [
      ['0_0', ['orders[0]', 'payments[0]']],
      ['0_1', ['orders[1]', 'payments[1]']],
      ['0_2', ['orders[2]']],
    ],
  )
})

test('a missing topic has no partitions, and a sub-topology whose topics are all missing has no tasks', () => {
  const subs = [
    { id: 0, sourceTopics: ['rides', 'gone'] },
    { id: 1, sourceTopics: ['also-gone'] },
  ]
  const tasks = buildTasks(subs, counts({ rides: 2, gone: 0 }))
  assert.deepEqual(
    tasks.map((t) => t.id),
    ['0_0', '0_1'],
  )
  assert.deepEqual(tasks[0]!.partitions, [{ topic: 'rides', partition: 0 }])
})

test('co-located sub-topologies form one unit per partition; others are units alone', () => {
  const subs = [
    { id: 0, sourceTopics: ['rides'], colocate: 1 },
    { id: 1, sourceTopics: ['rides-by-vendor-repartition'], colocate: 1 },
    { id: 2, sourceTopics: ['prices'] },
  ]
  const tasks = buildTasks(subs, counts({ rides: 2, 'rides-by-vendor-repartition': 2, prices: 2 }))
  assert.deepEqual(
    buildUnits(tasks, subs).map((u) => [u.id, u.tasks, u.topics]),
    [
      ['0_0', ['0_0', '1_0'], ['rides', 'rides-by-vendor-repartition']],
      ['0_1', ['0_1', '1_1'], ['rides', 'rides-by-vendor-repartition']],
      ['2_0', ['2_0'], ['prices']],
      ['2_1', ['2_1'], ['prices']],
    ],
  )
})

test('source topics with different partition counts are reported with their names and counts', () => {
  const subs = [{ id: 3, sourceTopics: ['payments', 'orders'] }]
  const warnings = copartitionWarnings(subs, counts({ orders: 6, payments: 4 }))
  assert.equal(warnings.length, 1)
  assert.match(warnings[0]!, /sub-topology 3: .* orders \(6\), payments \(4\)/)
  assert.throws(
    () => validateCopartitioning(subs, counts({ orders: 6, payments: 4 })),
    (e: unknown) =>
      e instanceof TributaryError && e.code === 'INVALID_PARTITIONS' && /orders \(6\)/.test(e.message),
  )
  assert.deepEqual(copartitionWarnings(subs, counts({ orders: 6, payments: 6 })), [])
  assert.match(copartitionWarnings(subs, counts({ orders: 6 }))[0]!, /payments \(0\)/)
})

test('co-located sub-topologies with different task counts are reported', () => {
  const subs = [
    { id: 0, sourceTopics: ['rides'], colocate: 7 },
    { id: 1, sourceTopics: ['rides-repartition'], colocate: 7 },
  ]
  const [warning] = copartitionWarnings(subs, counts({ rides: 6, 'rides-repartition': 4 }))
  assert.match(warning!, /co-location group 7: .*0 \(6 tasks\), 1 \(4 tasks\)/)
})

test('sub-topologies that cannot be assigned are refused, naming the fault', () => {
  const refused = (subs: Parameters<typeof validateSubtopologies>[0], pattern: RegExp): void => {
    assert.throws(
      () => validateSubtopologies(subs),
      (e: unknown) => e instanceof TributaryError && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message),
    )
  }
  refused([{ id: -1, sourceTopics: ['a'] }], /id -1 is not an integer >= 0/)
  refused([{ id: 1.5, sourceTopics: ['a'] }], /id 1.5/)
  refused(
    [
      { id: 0, sourceTopics: ['a'] },
      { id: 0, sourceTopics: ['b'] },
    ],
    /id 0 is used twice/,
  )
  refused([{ id: 0, sourceTopics: [] }], /sub-topology 0 has no source topic/)
  refused(
    [
      { id: 0, sourceTopics: ['a'] },
      { id: 1, sourceTopics: ['a'] },
    ],
    /topic a is a source of sub-topologies 0 and 1/,
  )
  validateSubtopologies([
    { id: 0, sourceTopics: ['a', 'b'], colocate: 0 },
    { id: 1, sourceTopics: ['c'], colocate: 0 },
  ])
})
