/** kafka:// compression: each codec really compresses the batches on the wire, and records come back whole. */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Consumer as PltConsumer } from '@platformatic/kafka'
import { zstdAvailable } from '../../../src/transport/kafka/options.js'
import type { Compression, Transport } from '../../../src/transport/types.js'
import { BROKER, createTopic, open, pollUntil, rejectsWith } from './helpers.js'

/** The compression bits of the record batches stored in partition 0, read with the raw client. */
async function storedCodecs(topic: string): Promise<number[]> {
  const client = new PltConsumer({
    clientId: 'codec-check',
    groupId: 'never-joined',
    bootstrapBrokers: [BROKER.replace('kafka://', '').split(',')[0]!],
  })
  try {
    const metadata = await client.metadata({ topics: [topic] })
    const info = metadata.topics.get(topic)!
    const response = await client.fetch({
      node: info.partitions[0]!.leader,
      topics: [
        {
          topicId: info.id,
          partitions: [
            {
              partition: 0,
              fetchOffset: 0n,
              partitionMaxBytes: 1 << 20,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            },
          ],
        },
      ],
      isolationLevel: 0,
      maxWaitTime: 100,
    })
    return (response.responses[0]?.partitions[0]?.records ?? []).map((batch) => batch.attributes & 0b111)
  } finally {
    await client.close()
  }
}

const BITS: Record<Compression, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }

describe('kafka:// compression', () => {
  let transport: Transport
  before(() => {
    transport = open()
  })
  after(async () => {
    await transport.close()
  })

  const codecs: Compression[] = [
    'none',
    'gzip',
    'snappy',
    'lz4',
    ...(zstdAvailable ? (['zstd'] as const) : []),
  ]
  for (const compression of codecs) {
    test(`${compression} batches are stored ${compression === 'none' ? 'uncompressed' : 'compressed'} and read back intact`, async () => {
      const topic = await createTopic(transport)
      const producer = transport.producer({ compression })
      const records = Array.from({ length: 500 }, (_, i) => ({
        topic,
        key: Buffer.from(`key-${i}`),
        value: Buffer.from(`${compression} value ${i} `.repeat(20)),
        headers: [['n', Buffer.from(String(i))]] as Array<[string, Buffer]>,
      }))
      await producer.send(records)
      await producer.send(records.slice(0, 1))
      assert.deepEqual([...new Set(await storedCodecs(topic))], [BITS[compression]])
      const consumer = transport.consumer()
      await consumer.assign([{ topic, partition: 0, from: 'earliest' }])
      const back = await pollUntil(consumer, (all) => all.length >= 501)
      await consumer.close()
      assert.equal(back.length, 501)
      back.slice(0, 500).forEach((r, i) => {
        assert.equal(r.offset, i)
        assert.equal(r.key?.toString(), `key-${i}`)
        assert.equal(r.value?.toString(), records[i]!.value.toString())
        assert.equal(r.headers[0]?.[1].toString(), String(i))
      })
    })
  }

  test(
    'zstd is refused at creation with NOT_SUPPORTED where this Node.js has no zstd',
    { skip: zstdAvailable && 'this Node.js has zstd' },
    () => {
      assert.throws(() => transport.producer({ compression: 'zstd' }), {
        code: 'NOT_SUPPORTED',
        message: /zstd.*Node\.js/,
      })
    },
  )

  test(
    'a zstd topic cannot be read where this Node.js has no zstd, and says so in poll',
    { skip: zstdAvailable && 'this Node.js has zstd' },
    async () => {
      // The broker recompresses into the topic's codec, whatever the producer sent.
      const topic = await createTopic(transport, 1, { 'compression.type': 'zstd' })
      await transport.producer().send([{ topic, value: Buffer.from('squeezed') }])
      const consumer = transport.consumer()
      try {
        await consumer.assign([{ topic, partition: 0, from: 'earliest' }])
        await rejectsWith(
          pollUntil(consumer, () => false, 10_000),
          'NOT_SUPPORTED',
          /zstd/,
        )
      } finally {
        await consumer.close()
      }
    },
  )
})
