/** kafka:// consumer: assign without a group, fetch order and limits, seek, rebalance callbacks, leaving. */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { ConsumedRecord, Consumer, TopicPartition, Transport } from '../../../src/transport/types.js'
import { createTopic, open, pollUntil, rejectsWith } from './helpers.js'

const fast = { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 }
const names = (tps: TopicPartition[]): string[] => tps.map((tp) => `${tp.topic}[${tp.partition}]`).sort()

async function pollWhile(consumers: Consumer[], done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await Promise.all(consumers.map((c) => c.poll({ timeoutMs: 100 })))
  }
}

describe('kafka:// consumer', () => {
  let transport: Transport
  before(() => {
    transport = open()
  })
  after(async () => {
    await transport.close()
  })

  test('assign without a groupId fetches without creating any consumer group on the cluster', async () => {
    const topic = await createTopic(transport)
    await transport.producer().send([{ topic, value: Buffer.from('x') }])
    const before = new Set((await transport.admin().listGroups()).map((g) => g.groupId))
    const consumer = transport.consumer()
    await consumer.assign([{ topic, partition: 0, from: 'earliest' }])
    await pollUntil(consumer, (all) => all.length === 1)
    await consumer.close()
    const created = (await transport.admin().listGroups()).filter((g) => !before.has(g.groupId))
    assert.deepEqual(created, [])
  })

  test('poll returns at most maxRecords, in offset order per partition, none lost or repeated over many fetches', async () => {
    const topic = await createTopic(transport, 3)
    const producer = transport.producer()
    for (let batch = 0; batch < 10; batch++) {
      await producer.send(
        Array.from({ length: 3_000 }, (_, i) => ({
          topic,
          partition: i % 3,
          value: Buffer.from(`${batch}-${i}`),
        })),
      )
    }
    const consumer = transport.consumer()
    await consumer.assign([0, 1, 2].map((partition) => ({ topic, partition, from: 'earliest' as const })))
    const next = [0, 0, 0]
    let total = 0
    while (total < 30_000) {
      const records = await consumer.poll({ maxRecords: 777, timeoutMs: 5_000 })
      assert.ok(records.length > 0 && records.length <= 777, `poll returned ${records.length}`)
      for (const r of records) {
        assert.equal(r.offset, next[r.partition], `partition ${r.partition}`)
        next[r.partition] = r.offset + 1
      }
      total += records.length
    }
    assert.deepEqual(next, [10_000, 10_000, 10_000])
    assert.deepEqual(await consumer.poll({ timeoutMs: 300 }), [])
    await consumer.close()
  })

  test('seek moves the read position and drops what was already fetched for that partition', async () => {
    const topic = await createTopic(transport)
    await transport
      .producer()
      .send(Array.from({ length: 100 }, (_, i) => ({ topic, value: Buffer.from(String(i)) })))
    const consumer = transport.consumer()
    await consumer.assign([{ topic, partition: 0, from: 'earliest' }])
    const first = await consumer.poll({ maxRecords: 5, timeoutMs: 5_000 })
    assert.deepEqual(
      first.map((r) => r.offset),
      [0, 1, 2, 3, 4],
    )
    consumer.seek({ topic, partition: 0, offset: 42 })
    const after = await consumer.poll({ maxRecords: 3, timeoutMs: 5_000 })
    assert.deepEqual(
      after.map((r) => r.offset),
      [42, 43, 44],
    )
    assert.throws(() => consumer.seek({ topic, partition: 1, offset: 0 }), { code: 'INVALID_ARGUMENT' })
    await consumer.close()
  })

  test('an offset past the end of the log is reset as offsetReset says', async () => {
    const topic = await createTopic(transport)
    await transport
      .producer()
      .send(Array.from({ length: 3 }, (_, i) => ({ topic, value: Buffer.from(String(i)) })))
    const consumer = transport.consumer({ offsetReset: 'earliest' })
    await consumer.assign([{ topic, partition: 0, from: 1_000 }])
    const records = await pollUntil(consumer, (all) => all.length >= 3)
    await consumer.close()
    assert.deepEqual(
      records.map((r) => r.offset),
      [0, 1, 2],
    )
  })

  test('a rebalance revokes the moved partitions before assigning them elsewhere, and a commit for them is refused', async () => {
    const topic = await createTopic(transport, 4)
    const groupId = `g-${randomUUID()}`
    const events: string[] = []
    const listener = (name: string) => ({
      onAssigned: (tps: TopicPartition[]) => void events.push(`${name}+${tps.length}`),
      onRevoked: (tps: TopicPartition[]) => void events.push(`${name}-${tps.length}`),
    })
    const a = transport.consumer({ groupId, offsetReset: 'earliest', ...fast })
    const b = transport.consumer({ groupId, offsetReset: 'earliest', ...fast })
    try {
      await a.subscribe([topic], listener('a'))
      assert.equal(a.assignment().length, 4, 'the only member owns every partition once subscribe resolves')
      const before = a.assignment()
      await b.subscribe([topic], listener('b'))
      await pollWhile([a, b], () => a.assignment().length === 2 && b.assignment().length === 2)
      const moved = before.filter((tp) => !names(a.assignment()).includes(names([tp])[0]!))
      assert.deepEqual(names(moved), names(b.assignment()))
      assert.deepEqual(events, ['a+4', 'a-2', 'b+2'])
      await rejectsWith(a.commit([{ ...moved[0]!, offset: 0 }]), 'REBALANCE', /not assigned/)
      await a.commit(a.assignment().map((tp) => ({ ...tp, offset: 0 })))
    } finally {
      await a.close()
      await b.close()
    }
    assert.deepEqual(events.slice(3).sort(), ['a-2', 'b-2'], 'closing revokes what each member held')
  })

  test('close leaves the group, so the other member takes over at once rather than after the session timeout', async () => {
    const topic = await createTopic(transport, 2)
    const groupId = `g-${randomUUID()}`
    const slow = { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 300 }
    const stays = transport.consumer({ groupId, offsetReset: 'earliest', ...slow })
    const leaves = transport.consumer({ groupId, offsetReset: 'earliest', ...slow })
    try {
      await stays.subscribe([topic])
      await leaves.subscribe([topic])
      await pollWhile(
        [stays, leaves],
        () => stays.assignment().length === 1 && leaves.assignment().length === 1,
      )
      await transport.producer().send([
        { topic, partition: 0, value: Buffer.from('a') },
        { topic, partition: 1, value: Buffer.from('b') },
      ])
      const started = Date.now()
      await leaves.close()
      const records: ConsumedRecord[] = await pollUntil(stays, (all) => all.length >= 2, 10_000)
      assert.ok(Date.now() - started < 10_000)
      assert.equal(stays.assignment().length, 2)
      assert.deepEqual(records.map((r) => r.value?.toString()).sort(), ['a', 'b'])
    } finally {
      await stays.close()
      await leaves.close()
    }
  })

  test("offsetReset 'none' with no committed offset is an error naming the partition", async () => {
    const topic = await createTopic(transport)
    const consumer = transport.consumer({ groupId: `g-${randomUUID()}`, offsetReset: 'none', ...fast })
    try {
      await rejectsWith(
        consumer.subscribe([topic]),
        'KAFKA',
        new RegExp(`${topic}\\[0\\]`),
        /offsetReset is 'none'/,
      )
      consumer.seek({ topic, partition: 0, offset: 0 })
      await transport.producer().send([{ topic, value: Buffer.from('after seek') }])
      const [record] = await pollUntil(consumer, (all) => all.length >= 1)
      assert.equal(record?.value?.toString(), 'after seek')
    } finally {
      await consumer.close()
    }
  })

  test('a consumer either assigns or subscribes, a group is needed to commit, and missing topics are UNKNOWN_TOPIC', async () => {
    const topic = await createTopic(transport)
    const plain = transport.consumer()
    await rejectsWith(plain.subscribe([topic]), 'INVALID_ARGUMENT', /groupId/)
    await plain.assign([{ topic, partition: 0 }])
    await rejectsWith(plain.commit([{ topic, partition: 0, offset: 1 }]), 'INVALID_ARGUMENT', /groupId/)
    await rejectsWith(plain.assign([{ topic, partition: 5 }]), 'INVALID_PARTITIONS', /5/)
    await rejectsWith(plain.assign([{ topic: `${topic}-missing`, partition: 0 }]), 'UNKNOWN_TOPIC', /missing/)
    await plain.close()
    const member = transport.consumer({ groupId: `g-${randomUUID()}`, ...fast })
    await rejectsWith(member.subscribe([`${topic}-missing`]), 'UNKNOWN_TOPIC', /missing/)
    await member.subscribe([topic])
    await rejectsWith(member.assign([{ topic, partition: 0 }]), 'INVALID_ARGUMENT', /subscribe/)
    await member.close()
  })

  test('assign with a group starts at its committed offsets and commits as a simple consumer', async () => {
    const topic = await createTopic(transport)
    const groupId = `g-${randomUUID()}`
    await transport
      .producer()
      .send(Array.from({ length: 5 }, (_, i) => ({ topic, value: Buffer.from(String(i)) })))
    const first = transport.consumer({ groupId, offsetReset: 'earliest' })
    await first.assign([{ topic, partition: 0 }])
    assert.equal((await pollUntil(first, (all) => all.length >= 5)).length, 5)
    await first.commit([{ topic, partition: 0, offset: 3 }])
    await first.close()
    const second = transport.consumer({ groupId })
    await second.assign([{ topic, partition: 0 }])
    const rest = await pollUntil(second, (all) => all.length >= 2)
    await second.close()
    assert.deepEqual(
      rest.map((r) => r.offset),
      [3, 4],
    )
  })
})
