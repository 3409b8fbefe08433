/** kafka:// producer: per-record offsets, concurrency with idempotence, large sends, acks, transactions on close. */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { Transport } from '../../../src/transport/types.js'
import { createTopic, open, pollUntil, rejectsWith } from './helpers.js'

describe('kafka:// producer', () => {
  let transport: Transport
  before(() => {
    transport = open()
  })
  after(async () => {
    await transport.close()
  })

  test('each record gets its own offset, in input order, with partitions interleaved', async () => {
    const topic = await createTopic(transport, 3)
    const records = Array.from({ length: 30 }, (_, i) => ({
      topic,
      partition: (i * 7) % 3,
      value: Buffer.from(String(i)),
    }))
    const sent = await transport.producer().send(records)
    const seen = [0, 0, 0]
    sent.forEach((meta, i) => {
      assert.equal(meta.topic, topic)
      assert.equal(meta.partition, records[i]!.partition)
      assert.equal(meta.offset, seen[meta.partition]!++)
    })
    const consumer = transport.consumer()
    await consumer.assign([0, 1, 2].map((partition) => ({ topic, partition, from: 'earliest' as const })))
    const back = await pollUntil(consumer, (all) => all.length >= 30)
    await consumer.close()
    for (const r of back) assert.equal(sent[Number(r.value!.toString())]?.offset, r.offset)
  })

  test('a batch the broker refuses fails the send naming the topic, the partition and the reason, and the other partitions are written', async () => {
    const topic = await createTopic(transport, 2, { 'max.message.bytes': '2000' })
    const producer = transport.producer()
    await rejectsWith(
      producer.send([
        { topic, partition: 0, value: Buffer.from('fits') },
        { topic, partition: 1, value: Buffer.alloc(5_000, 1) },
      ]),
      'KAFKA',
      new RegExp(`topic "${topic}" partition 1`),
      /MESSAGE_TOO_LARGE/,
    )
    const ends = await transport.admin().listOffsets(topic, 'latest')
    assert.deepEqual(
      ends.map((o) => o.offset),
      [1, 0],
    )
    // The producer goes on: the next send is written (with a fresh producer id, KIP-360).
    const [meta] = await producer.send([{ topic, partition: 1, value: Buffer.from('small') }])
    assert.equal(meta?.offset, 0)
  })

  test('concurrent sends of an idempotent producer lose nothing and never share an offset', async () => {
    // Platformatic numbers idempotent batches when it builds a request; two requests in flight
    // would reuse a sequence and the broker would drop one while acknowledging it.
    const topic = await createTopic(transport)
    const producer = transport.producer()
    const sends = await Promise.all(
      Array.from({ length: 20 }, (_, s) =>
        producer.send(Array.from({ length: 50 }, (_, i) => ({ topic, value: Buffer.from(`${s}-${i}`) }))),
      ),
    )
    const offsets = sends.flat().map((m) => m.offset)
    assert.equal(new Set(offsets).size, 1_000)
    assert.deepEqual((await transport.admin().listOffsets(topic, 'latest'))[0]?.offset, 1_000)
    // Each call's records are contiguous and in its order.
    for (const sent of sends) sent.forEach((m, i) => assert.equal(m.offset, sent[0]!.offset + i))
  })

  test('a send larger than the broker batch limit is split over requests and fully acknowledged', async () => {
    const topic = await createTopic(transport)
    const value = Buffer.alloc(1_024, 7)
    const sent = await transport.producer().send(Array.from({ length: 3_000 }, () => ({ topic, value })))
    assert.deepEqual(
      sent.map((m) => m.offset),
      Array.from({ length: 3_000 }, (_, i) => i),
    )
  })

  test('acks 1 reports offsets; acks 0 cannot know them and reports -1, as Kafka does', async () => {
    const topic = await createTopic(transport)
    const leader = await transport.producer({ acks: 1 }).send([{ topic, value: Buffer.from('a') }])
    assert.deepEqual(leader, [{ topic, partition: 0, offset: 0 }])
    const blind = await transport.producer({ acks: 0 }).send([{ topic, value: Buffer.from('b') }])
    assert.deepEqual(blind, [{ topic, partition: 0, offset: -1 }])
    const consumer = transport.consumer()
    await consumer.assign([{ topic, partition: 0, from: 'earliest' }])
    assert.equal((await pollUntil(consumer, (all) => all.length >= 2)).length, 2)
    await consumer.close()
  })

  test('closing a producer aborts its open transaction, so read_committed readers are not held back', async () => {
    const topic = await createTopic(transport)
    const producer = transport.producer({ transactionalId: `tx-${randomUUID()}` })
    const open = await producer.beginTransaction()
    await open.send([{ topic, value: Buffer.from('never visible') }])
    await producer.close()
    await transport.producer().send([{ topic, value: Buffer.from('plain') }])
    const consumer = transport.consumer({ isolationLevel: 'read_committed' })
    await consumer.assign([{ topic, partition: 0, from: 'earliest' }])
    const records = await pollUntil(consumer, (all) => all.length >= 1, 10_000)
    await consumer.close()
    assert.deepEqual(
      records.map((r) => r.value?.toString()),
      ['plain'],
    )
  })

  test('sendOffsets needs a consumer of this transport with a group', async () => {
    const topic = await createTopic(transport)
    const producer = transport.producer({ transactionalId: `tx-${randomUUID()}` })
    const transaction = await producer.beginTransaction()
    const plain = transport.consumer()
    await rejectsWith(
      transaction.sendOffsets(plain, [{ topic, partition: 0, offset: 1 }]),
      'INVALID_ARGUMENT',
      /groupId/,
    )
    await transaction.abort()
    await plain.close()
    await producer.close()
  })
})
