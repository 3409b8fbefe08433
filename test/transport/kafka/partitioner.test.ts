/** kafka:// partitioning: keyed records land where Java's default partitioner puts them, keyless ones spread. */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { defaultPartitioner } from '@platformatic/kafka'
import { partitionForKey } from '../../../src/transport/partitioner.js'
import type { Transport } from '../../../src/transport/types.js'
import { createTopic, open, pollUntil } from './helpers.js'

describe('kafka:// partitioning', () => {
  let transport: Transport
  before(() => {
    transport = open()
  })
  after(async () => {
    await transport.close()
  })

  test('keyed records go to partitionForKey(key, count), where platformatic own default would differ', async () => {
    const partitions = 7
    const topic = await createTopic(transport, partitions)
    const keys = Array.from({ length: 400 }, (_, i) =>
      Buffer.from(i % 3 === 0 ? `user-${i}` : `${'x'.repeat(i % 40)}${i}`),
    )
    keys.push(Buffer.alloc(0), Buffer.from([0xff, 0x00, 0x80]))
    // Platformatic's defaultPartitioner takes murmur2 >>> 0, Java masks the sign bit: not the same partition.
    const differing = keys.filter(
      (k) => defaultPartitioner({ topic }, k) % partitions !== partitionForKey(k, partitions),
    )
    assert.ok(differing.length > 0, 'the test keys include some where the two partitioners disagree')

    const sent = await transport
      .producer()
      .send(keys.map((key, i) => ({ topic, key, value: Buffer.from(String(i)) })))
    sent.forEach((meta, i) =>
      assert.equal(meta.partition, partitionForKey(keys[i]!, partitions), `key ${keys[i]!.toString('hex')}`),
    )

    // The broker agrees: each record is read back from the partition that was reported.
    const consumer = transport.consumer()
    await consumer.assign(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition, from: 'earliest' as const })),
    )
    const records = await pollUntil(consumer, (all) => all.length >= keys.length)
    await consumer.close()
    for (const record of records) {
      const i = Number(record.value!.toString())
      assert.equal(record.partition, sent[i]!.partition)
      assert.equal(record.offset, sent[i]!.offset)
    }
  })

  test('records without key spread over every partition, and an explicit partition wins over the key', async () => {
    const topic = await createTopic(transport, 4)
    const producer = transport.producer()
    const keyless = await producer.send(
      Array.from({ length: 40 }, () => ({ topic, value: Buffer.from('v') })),
    )
    assert.deepEqual([...new Set(keyless.map((m) => m.partition))].sort(), [0, 1, 2, 3])
    const key = Buffer.from('pinned')
    const other = (partitionForKey(key, 4) + 1) % 4
    const [explicit] = await producer.send([{ topic, key, partition: other, value: null }])
    assert.equal(explicit?.partition, other)
  })
})
