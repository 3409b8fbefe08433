/**
 * kafka:// flow control and positions: paused partitions keep what they buffered while the others
 * flow on their own budget, position and watermarks come from what was fetched, read_committed ends
 * at the last stable offset (in fetches and in ListOffsets), and the transaction timeout is the
 * producer's own.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { ConsumedRecord, Transport } from '../../../src/transport/types.js'
import { createTopic, open, pollUntil, rejectsWith } from './helpers.js'

const values = (n: number, tag: string) => Array.from({ length: n }, (_, i) => Buffer.from(`${tag}-${i}`))

describe('kafka:// flow control', () => {
  let transport: Transport
  before(() => {
    transport = open()
  })
  after(async () => {
    await transport.close()
  })

  test('a paused partition holding a full buffer does not stop the others, and resumes where it stopped', async () => {
    const topic = await createTopic(transport, 2)
    const producer = transport.producer()
    await producer.send(values(200, 'p0').map((value) => ({ topic, partition: 0, value })))
    const consumer = transport.consumer({ maxBufferedRecordsPerPartition: 20 })
    try {
      await consumer.assign([
        { topic, partition: 0, from: 'earliest' },
        { topic, partition: 1, from: 'earliest' },
      ])
      const p0 = { topic, partition: 0 }
      const p1 = { topic, partition: 1 }
      // p0 fills (and overshoots) its budget of 20; pause it with its records buffered.
      let first: ConsumedRecord[] = []
      while (first.length === 0) first = await consumer.poll({ timeoutMs: 1_000, maxRecords: 5 })
      consumer.pause([p0, { topic, partition: 9 }])
      assert.deepEqual(consumer.paused(), [p0], 'a partition not assigned is ignored')
      const taken0 = first.length
      assert.ok(taken0 <= 5)
      assert.equal(consumer.position(p0), taken0, 'position: the next record poll would return')
      // Only now does p1 get records, over many fetches: the paused p0 must not hold them up.
      for (let i = 0; i < 10; i++)
        await producer.send(values(20, `p1-${i}`).map((value) => ({ topic, partition: 1, value })))
      const more = await pollUntil(consumer, (all) => all.filter((r) => r.partition === 1).length >= 200)
      assert.deepEqual(
        more.filter((r) => r.partition === 0),
        [],
        'nothing of a paused partition is returned',
      )
      assert.equal(consumer.position(p1), 200)
      assert.deepEqual(consumer.watermarks(p1), { highWatermark: 200, lastStableOffset: 200 })
      assert.equal(consumer.position(p0), taken0, 'its buffered records were kept')
      consumer.resume([p0])
      assert.deepEqual(consumer.paused(), [])
      const rest = await pollUntil(consumer, (all) => all.length >= 200 - taken0)
      const offsets = rest.map((r: ConsumedRecord) => r.offset)
      assert.deepEqual(
        offsets,
        Array.from({ length: 200 - taken0 }, (_, i) => taken0 + i),
        'in order, none lost',
      )
      assert.equal(consumer.position(p0), 200)
      assert.equal(consumer.position({ topic, partition: 5 }), undefined)
    } finally {
      await consumer.close()
    }
  })

  test('under read_committed, fetches and ListOffsets stop at the last stable offset of an open transaction', async () => {
    const topic = await createTopic(transport, 1)
    await transport.producer().send(values(5, 'plain').map((value) => ({ topic, value })))
    const transactional = transport.producer({ transactionalId: `tx-${randomUUID()}` })
    const open = await transactional.beginTransaction()
    await open.send(values(3, 'pending').map((value) => ({ topic, value })))
    const admin = transport.admin()
    const reader = transport.consumer({ isolationLevel: 'read_committed' })
    try {
      assert.deepEqual(await admin.listOffsets(topic, 'latest', { isolationLevel: 'read_committed' }), [
        { topic, partition: 0, offset: 5 },
      ])
      assert.deepEqual(await admin.listOffsets(topic, 'latest'), [{ topic, partition: 0, offset: 8 }])
      await reader.assign([{ topic, partition: 0, from: 'earliest' }])
      await pollUntil(reader, (all) => all.length >= 5)
      assert.deepEqual(reader.watermarks({ topic, partition: 0 }), { highWatermark: 8, lastStableOffset: 5 })
      await open.commit()
      // The commit marker takes offset 8: everything is stable up to 9.
      await pollUntil(reader, (all) => all.length >= 3)
      assert.deepEqual(reader.watermarks({ topic, partition: 0 }), { highWatermark: 9, lastStableOffset: 9 })
      assert.deepEqual(await admin.listOffsets(topic, 'latest', { isolationLevel: 'read_committed' }), [
        { topic, partition: 0, offset: 9 },
      ])
    } finally {
      await reader.close()
      await transactional.close()
    }
  })

  test('transactionTimeoutMs goes to the broker with InitProducerId: beyond transaction.max.timeout.ms it is refused', async () => {
    const producer = transport.producer({
      transactionalId: `tx-${randomUUID()}`,
      transactionTimeoutMs: 3_600_000,
    })
    try {
      await rejectsWith(producer.beginTransaction(), 'INVALID_ARGUMENT', /transaction/i)
    } finally {
      await producer.close()
    }
    assert.throws(() => transport.producer({ transactionalId: 'x', transactionTimeoutMs: 0 }), {
      code: 'INVALID_ARGUMENT',
    })
  })

  test('a transaction left open past its transactionTimeoutMs is aborted by the broker', async () => {
    const topic = await createTopic(transport, 1)
    const producer = transport.producer({
      transactionalId: `tx-${randomUUID()}`,
      transactionTimeoutMs: 1_000,
    })
    const admin = transport.admin()
    try {
      const open = await producer.beginTransaction()
      await open.send([{ topic, value: Buffer.from('abandoned') }])
      // The coordinator aborts it (marker at offset 1) within its cleanup interval: LSO moves to 2.
      const deadline = Date.now() + 60_000
      for (;;) {
        const [stable] = await admin.listOffsets(topic, 'latest', { isolationLevel: 'read_committed' })
        if (stable?.offset === 2) break
        assert.ok(Date.now() < deadline, `the transaction is still open (LSO ${stable?.offset})`)
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
      await rejectsWith(open.commit(), 'FENCED')
    } finally {
      await producer.close()
    }
  })
})
