import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  deleteOffsets,
  parseResetTarget,
  parseTopicSelection,
  planReset,
  resetOffsets,
} from '../../src/cli/commands/group-offsets.js'
import { TributaryError } from '../../src/errors.js'
import type { Transport } from '../../src/transport/types.js'
import { Collector, memoryTransport } from './helpers.js'

const fails = (code: string, message: RegExp) => (error: unknown) =>
  error instanceof TributaryError && error.code === code && message.test(error.message)

/** Topic `t` of 3 partitions with 10 records each, and group `g` committed at 4, 6 and nothing. */
async function seeded(): Promise<Transport> {
  const transport = memoryTransport()
  const admin = transport.admin()
  await admin.createTopics([{ topic: 't', partitions: 3 }])
  const producer = transport.producer()
  await producer.send(Array.from({ length: 30 }, (_, i) => ({ topic: 't', partition: i % 3, value: `${i}` })))
  await producer.close()
  await admin.alterGroupOffsets('g', [
    { topic: 't', partition: 0, offset: 4 },
    { topic: 't', partition: 1, offset: 6 },
  ])
  return transport
}

describe('groups reset-offsets and delete-offsets', () => {
  test('a topic selection names a topic, or some of its partitions after a colon', () => {
    assert.deepEqual(parseTopicSelection('orders'), { topic: 'orders' })
    assert.deepEqual(parseTopicSelection('orders:2,0,2'), { topic: 'orders', partitions: [0, 2] })
    assert.throws(
      () => parseTopicSelection('orders:x'),
      fails('INVALID_ARGUMENT', /partition must be an integer/),
    )
    assert.throws(() => parseTopicSelection(':1'), fails('INVALID_ARGUMENT', /no topic name/))
  })

  test('exactly one target is taken, and a bad one is named', () => {
    assert.deepEqual(parseResetTarget({ shiftBy: '-5' }), { to: 'shift', by: -5 })
    assert.deepEqual(parseResetTarget({ toDatetime: '@1714564800000' }), {
      to: 'datetime',
      timestamp: 1714564800000,
    })
    assert.throws(
      () => parseResetTarget({}),
      fails('INVALID_ARGUMENT', /exactly one of --to-earliest.*got none/),
    )
    assert.throws(
      () => parseResetTarget({ toEarliest: true, toLatest: true }),
      fails('INVALID_ARGUMENT', /got 2/),
    )
    assert.throws(() => parseResetTarget({ shiftBy: '1.5' }), fails('INVALID_ARGUMENT', /--shift-by.*"1.5"/))
    assert.throws(
      () => parseResetTarget({ toDatetime: 'yesterday' }),
      fails('INVALID_ARGUMENT', /"yesterday"/),
    )
  })

  test('the plan keeps offsets inside the log and says where it moved one', async () => {
    const transport = await seeded()
    try {
      const admin = transport.admin()
      const plan = await planReset(admin, 'g', [{ topic: 't', partitions: [0, 1] }], { to: 'shift', by: 5 })
      assert.deepEqual(
        plan.partitions.map((p) => [p.partition, p.current, p.offset, p.note]),
        [
          [0, 4, 9, ''],
          [1, 6, 10, '11 is past the log end'],
        ],
      )
      const out = new Collector()
      await resetOffsets(admin, plan, false, out)
      assert.match(out.text(), /dry run/)
      assert.deepEqual(
        (await admin.listGroupOffsets('g')).map((o) => o.offset),
        [4, 6],
      )
      await resetOffsets(admin, plan, true, new Collector())
      assert.deepEqual(
        (await admin.listGroupOffsets('g')).map((o) => o.offset),
        [9, 10],
      )
    } finally {
      await transport.close()
    }
  })

  test('shifting a partition the group never committed is refused, naming it', async () => {
    const transport = await seeded()
    try {
      await assert.rejects(
        planReset(transport.admin(), 'g', [{ topic: 't' }], { to: 'shift', by: -1 }),
        fails('INVALID_ARGUMENT', /has none for t:2; choose those partitions with --to-earliest/),
      )
    } finally {
      await transport.close()
    }
  })

  test('an unknown partition and an unknown topic are named', async () => {
    const transport = await seeded()
    try {
      const admin = transport.admin()
      await assert.rejects(
        planReset(admin, 'g', [{ topic: 't', partitions: [7] }], { to: 'earliest' }),
        fails('INVALID_PARTITIONS', /Topic "t" has no partition 7 \(it has 3: 0-2\)/),
      )
      await assert.rejects(
        planReset(admin, 'g', [{ topic: 'nope' }], { to: 'earliest' }),
        fails('UNKNOWN_TOPIC', /nope/),
      )
    } finally {
      await transport.close()
    }
  })

  test('a live member stops --execute and delete-offsets of its topic, and a group that never was is named', async () => {
    const transport = await seeded()
    const consumer = transport.consumer({ groupId: 'g' })
    try {
      await consumer.subscribe(['t'])
      await consumer.poll({ timeoutMs: 100 })
      const admin = transport.admin()
      const plan = await planReset(admin, 'g', 'all-topics', { to: 'latest' })
      assert.equal(plan.live?.members.length, 1)
      await assert.rejects(
        resetOffsets(admin, plan, true, new Collector()),
        fails('GROUP_NOT_EMPTY', /group "g" has 1 live member.*stop its workers/),
      )
      await assert.rejects(
        deleteOffsets(admin, 'g', [{ topic: 't' }], new Collector()),
        fails('GROUP_NOT_EMPTY', /subscribe to "t"/),
      )
      await assert.rejects(
        deleteOffsets(admin, 'never', [{ topic: 't' }], new Collector()),
        fails('UNKNOWN_GROUP', /"never" does not exist/),
      )
    } finally {
      await consumer.close()
      await transport.close()
    }
  })
})
