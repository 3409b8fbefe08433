import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { TributaryError } from '../../../src/errors.js'
import type { Admin, Producer } from '../../../src/transport/types.js'
import { fixture, pollUntil, sleep, text, type Fixture } from './helpers.js'

const code = (c: string, message?: RegExp) => (error: unknown) =>
  error instanceof TributaryError && error.code === c && (!message || message.test(error.message))

describe('memory:// flow control: pause, position, watermarks, per-partition budget', () => {
  let f: Fixture
  let admin: Admin
  let producer: Producer

  beforeEach(async () => {
    f = fixture()
    admin = f.transport.admin()
    producer = f.transport.producer()
    await admin.createTopics([{ topic: 't', partitions: 2 }])
  })
  afterEach(() => f.close())

  const fill = (partition: number, count: number) =>
    producer.send(Array.from({ length: count }, (_, i) => ({ topic: 't', partition, value: text(`${i}`) })))

  test('appends to a paused partition do not wake a waiting poll; resume does', async () => {
    const consumer = f.transport.consumer()
    await consumer.assign([{ topic: 't', partition: 0, from: 'earliest' }])
    consumer.pause([{ topic: 't', partition: 0 }])
    let done = false
    const waiting = consumer.poll({ timeoutMs: 5000 }).finally(() => (done = true))
    await fill(0, 1)
    await sleep(50)
    assert.equal(done, false, 'still waiting: the partition is paused')
    consumer.resume([{ topic: 't', partition: 0 }])
    assert.equal((await waiting).length, 1)
  })

  test('pause ignores partitions not assigned, refuses what is not a partition list, and a revoked partition forgets it', async () => {
    const consumer = f.transport.consumer({ groupId: 'g' })
    await consumer.subscribe(['t'])
    await consumer.poll({ timeoutMs: 0 })
    consumer.pause([
      { topic: 't', partition: 1 },
      { topic: 'other', partition: 0 },
    ])
    assert.deepEqual(consumer.paused(), [{ topic: 't', partition: 1 }])
    assert.throws(() => consumer.pause('t' as never), code('INVALID_ARGUMENT', /list of partitions/))
    assert.throws(() => consumer.resume([{ topic: 't' }] as never), code('INVALID_ARGUMENT'))
    const other = f.transport.consumer({ groupId: 'g' })
    await other.subscribe(['t'])
    await consumer.poll({ timeoutMs: 0 })
    await other.poll({ timeoutMs: 0 })
    const kept = consumer.assignment()
    assert.equal(kept.length, 1)
    assert.deepEqual(
      consumer.paused(),
      kept.filter((tp) => tp.partition === 1),
    )
  })

  test('position follows seek and reads; watermarks are unknown until the first fetch and then follow each fetch', async () => {
    await fill(0, 5)
    const consumer = f.transport.consumer()
    const tp = { topic: 't', partition: 0 }
    await consumer.assign([{ ...tp, from: 'earliest' }])
    assert.equal(consumer.position(tp), 0)
    assert.equal(consumer.watermarks(tp), undefined)
    await consumer.poll({ maxRecords: 2 })
    assert.equal(consumer.position(tp), 2)
    assert.deepEqual(consumer.watermarks(tp), { highWatermark: 5, lastStableOffset: 5 })
    consumer.seek({ ...tp, offset: 4 })
    assert.equal(consumer.position(tp), 4)
    await fill(0, 2)
    consumer.pause([tp])
    await consumer.poll({ timeoutMs: 0 })
    assert.deepEqual(
      consumer.watermarks(tp),
      { highWatermark: 5, lastStableOffset: 5 },
      'a paused partition is not fetched',
    )
    consumer.resume([tp])
    assert.deepEqual(
      (await pollUntil(consumer, 3)).map((r) => r.offset),
      [4, 5, 6],
    )
    assert.equal(consumer.position(tp), 7)
    assert.deepEqual(consumer.watermarks(tp), { highWatermark: 7, lastStableOffset: 7 })
  })

  test('maxBufferedRecordsPerPartition bounds what one poll takes from a partition, so a busy one cannot crowd out another', async () => {
    await fill(0, 5000)
    await fill(1, 5)
    const consumer = f.transport.consumer({ maxBufferedRecordsPerPartition: 100 })
    await consumer.assign([
      { topic: 't', partition: 0, from: 'earliest' },
      { topic: 't', partition: 1, from: 'earliest' },
    ])
    const first = await consumer.poll({ maxRecords: 10_000 })
    assert.equal(first.filter((r) => r.partition === 0).length, 100)
    assert.equal(first.filter((r) => r.partition === 1).length, 5)
    const second = await consumer.poll({ maxRecords: 10_000 })
    assert.deepEqual(
      [second.length, second[0]?.offset],
      [100, 100],
      'the busy partition goes on where it stopped',
    )
  })

  test('consumer options are checked: the per-partition budget and the heartbeat against the session', () => {
    for (const bad of [0, -1, 1.5, '10']) {
      assert.throws(
        () => f.transport.consumer({ maxBufferedRecordsPerPartition: bad as number }),
        code('INVALID_ARGUMENT', /maxBufferedRecordsPerPartition/),
      )
    }
    assert.throws(
      () => f.transport.consumer({ groupId: 'g', sessionTimeoutMs: 1000, heartbeatIntervalMs: 1000 }),
      code('INVALID_ARGUMENT', /heartbeatIntervalMs \(1000\) must be lower than sessionTimeoutMs \(1000\)/),
    )
    assert.throws(() => f.transport.consumer({ heartbeatIntervalMs: 0 }), code('INVALID_ARGUMENT'))
    // A short session without a heartbeat interval gets one that can keep it.
    f.transport.consumer({ groupId: 'g', sessionTimeoutMs: 1000 })
  })
})
