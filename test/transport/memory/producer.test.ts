import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { TributaryError } from '../../../src/errors.js'
import { partitionForKey } from '../../../src/transport/partitioner.js'
import type { Admin, Consumer, Producer } from '../../../src/transport/types.js'
import { fixture, pollUntil, text, values, type Fixture } from './helpers.js'

const code = (c: string) => (error: unknown) => error instanceof TributaryError && error.code === c

describe('memory:// producer', () => {
  let f: Fixture
  let admin: Admin
  let producer: Producer
  let consumer: Consumer

  beforeEach(async () => {
    f = fixture()
    admin = f.transport.admin()
    producer = f.transport.producer()
    consumer = f.transport.consumer()
    await admin.createTopics([{ topic: 'events', partitions: 4 }])
  })
  afterEach(() => f.close())

  test('keyed records land on the partition of Kafka murmur2 partitioner', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `key-${i}`)
    const meta = await producer.send(keys.map((k) => ({ topic: 'events', key: text(k), value: text(k) })))
    assert.deepEqual(
      meta.map((m) => m.partition),
      keys.map((k) => partitionForKey(text(k), 4)),
    )
    assert.ok(new Set(meta.map((m) => m.partition)).size > 1)
  })

  test('metadata comes back in input order with consecutive offsets per partition', async () => {
    const meta = await producer.send([
      { topic: 'events', partition: 2, value: text('a') },
      { topic: 'events', partition: 0, value: text('b') },
      { topic: 'events', partition: 2, value: text('c') },
    ])
    assert.deepEqual(meta, [
      { topic: 'events', partition: 2, offset: 0 },
      { topic: 'events', partition: 0, offset: 0 },
      { topic: 'events', partition: 2, offset: 1 },
    ])
  })

  test('keyless records are spread over the partitions across send calls', async () => {
    const partitions = new Set<number>()
    for (let i = 0; i < 8; i++) {
      const [meta] = await producer.send([{ topic: 'events', value: text(`v${i}`) }])
      partitions.add(meta!.partition)
    }
    assert.equal(partitions.size, 4)
  })

  test('records keep key, value, ordered duplicate headers and the producer timestamp', async () => {
    await consumer.assign([{ topic: 'events', partition: 1, from: 'earliest' }])
    const headers: Array<[string, Buffer]> = [
      ['h', text('1')],
      ['x', text('2')],
      ['h', text('3')],
    ]
    await producer.send([
      { topic: 'events', partition: 1, key: text('k'), value: null, headers, timestamp: 1234 },
    ])
    const [record] = await pollUntil(consumer, 1)
    assert.deepEqual(record, {
      topic: 'events',
      partition: 1,
      offset: 0,
      timestamp: 1234,
      key: text('k'),
      value: null,
      headers,
    })
  })

  test('a record without timestamp gets the current time', async () => {
    await consumer.assign([{ topic: 'events', partition: 0, from: 'earliest' }])
    const before = Date.now()
    await producer.send([{ topic: 'events', partition: 0, value: text('now') }])
    const [record] = await pollUntil(consumer, 1)
    assert.ok(record!.timestamp >= before && record!.timestamp <= Date.now())
  })

  test('a LogAppendTime topic replaces the producer timestamp with the broker time', async () => {
    await admin.createTopics([{ topic: 'appended', configs: { 'message.timestamp.type': 'LogAppendTime' } }])
    await consumer.assign([{ topic: 'appended', partition: 0, from: 'earliest' }])
    const before = Date.now()
    await producer.send([{ topic: 'appended', value: text('x'), timestamp: 1000 }])
    const [record] = await pollUntil(consumer, 1)
    assert.ok(record!.timestamp >= before, `timestamp ${record!.timestamp} should be the append time`)
  })

  test('producing to a missing topic fails with UNKNOWN_TOPIC and appends nothing', async () => {
    await assert.rejects(
      producer.send([
        { topic: 'events', partition: 0, value: text('a') },
        { topic: 'nope', value: text('b') },
      ]),
      (error: unknown) => code('UNKNOWN_TOPIC')(error) && /nope/.test((error as Error).message),
    )
    const [first] = await admin.listOffsets('events', 'latest')
    assert.equal(first!.offset, 0)
  })

  test('a partition out of range fails with INVALID_PARTITIONS naming topic and partition', async () => {
    await assert.rejects(
      producer.send([{ topic: 'events', partition: 4, value: text('a') }]),
      (error: unknown) => {
        assert.ok(code('INVALID_PARTITIONS')(error))
        assert.match((error as Error).message, /Partition 4 of topic events/)
        return true
      },
    )
  })

  test('a timestamp more than an hour ahead is refused, as Kafka 4 does', async () => {
    await assert.rejects(
      producer.send([
        { topic: 'events', partition: 0, value: text('a'), timestamp: Date.now() + 2 * 3600_000 },
      ]),
      code('KAFKA'),
    )
  })

  test('a record larger than max.message.bytes is refused', async () => {
    await assert.rejects(
      producer.send([{ topic: 'events', partition: 0, value: Buffer.alloc(1048576) }]),
      /max\.message\.bytes/,
    )
  })

  test('acks 0 reports unknown offsets, as Kafka clients do', async () => {
    const fire = f.transport.producer({ acks: 0 })
    const [meta] = await fire.send([{ topic: 'events', partition: 0, value: text('a') }])
    assert.equal(meta!.offset, -1)
  })

  test('an idempotent producer needs acks all', () => {
    assert.throws(() => f.transport.producer({ acks: 1, idempotent: true }), code('INVALID_ARGUMENT'))
  })

  test('a closed producer fails with CLOSED', async () => {
    await producer.close()
    await assert.rejects(producer.send([{ topic: 'events', value: text('a') }]), code('CLOSED'))
  })

  test('closing the transport closes its clients and refuses new ones', async () => {
    await f.transport.close()
    await assert.rejects(producer.send([{ topic: 'events', value: text('a') }]), code('CLOSED'))
    await assert.rejects(admin.listTopics(), code('CLOSED'))
    assert.throws(() => f.transport.producer(), code('CLOSED'))
  })

  test('a transport reopened on the same name sees the same data', async () => {
    await producer.send([{ topic: 'events', partition: 3, value: text('kept') }])
    const other = f.reopen().consumer()
    await other.assign([{ topic: 'events', partition: 3, from: 'earliest' }])
    assert.deepEqual(values(await pollUntil(other, 1)), ['kept'])
  })
})
