/** kafka:// record batches we encode, read back by platformatic's own decoder and checked field by field. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { jsCRC32C, Reader, readRecordsBatch } from '@platformatic/kafka'
import type { Compression } from '../../../../src/transport/types.js'
import { encodeBatch, type OutRecord } from '../../../../src/transport/kafka/wire/batch-encode.js'

const BASE = 1_700_000_000_000

function decode(batch: Buffer): ReturnType<typeof readRecordsBatch> {
  return readRecordsBatch(Reader.from(batch))
}

function records(count: number, make: (i: number) => Partial<OutRecord> = () => ({})): OutRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.from(`value ${i}`),
    headers: undefined,
    timestamp: BASE + i,
    ...make(i),
  }))
}

describe('record batch encoding', () => {
  test('a batch carries every record in order with offset deltas, timestamps and a valid CRC-32C', () => {
    const input = records(50)
    const batch = encodeBatch(
      input,
      input.map((_, i) => i),
    )
    const decoded = decode(batch)
    assert.equal(decoded.magic, 2)
    assert.equal(decoded.length, batch.length - 12)
    assert.equal(decoded.lastOffsetDelta, 49)
    assert.equal(decoded.firstTimestamp, BigInt(BASE))
    assert.equal(decoded.maxTimestamp, BigInt(BASE + 49))
    assert.equal(decoded.crc, jsCRC32C(batch.subarray(21)))
    assert.equal(decoded.records.length, 50)
    decoded.records.forEach((r, i) => {
      assert.equal(r.offsetDelta, i)
      assert.equal(Number(r.timestampDelta), i)
      assert.deepEqual(r.key, Buffer.from(`k${i}`))
      assert.deepEqual(r.value, Buffer.from(`value ${i}`))
    })
  })

  test('only the records at the given indexes go in, in the order of the indexes', () => {
    const input = records(10)
    const decoded = decode(encodeBatch(input, [7, 2, 9]))
    assert.deepEqual(
      decoded.records.map((r) => r.value?.toString()),
      ['value 7', 'value 2', 'value 9'],
    )
    assert.deepEqual(
      decoded.records.map((r) => r.offsetDelta),
      [0, 1, 2],
    )
  })

  test('null keys and values (tombstones) stay null, empty ones stay empty', () => {
    const input = records(4, (i) => ({
      key: i === 0 ? null : i === 1 ? Buffer.alloc(0) : Buffer.from('k'),
      value: i === 2 ? null : i === 3 ? Buffer.alloc(0) : Buffer.from('v'),
    }))
    const decoded = decode(encodeBatch(input, [0, 1, 2, 3]))
    assert.equal(decoded.records[0]!.key, null)
    assert.deepEqual(decoded.records[1]!.key, Buffer.alloc(0))
    assert.equal(decoded.records[2]!.value, null)
    assert.deepEqual(decoded.records[3]!.value, Buffer.alloc(0))
  })

  test('a string value gives the same batch as its UTF-8 bytes, multi-byte characters and lengths past a varint byte included', () => {
    const texts = ['', 'plain', 'Zürich € 北京 🚕', 'x'.repeat(63), 'é'.repeat(40), '北'.repeat(300)]
    const asText = records(texts.length, (i) => ({ value: texts[i]! }))
    const asBytes = records(texts.length, (i) => ({ value: Buffer.from(texts[i]!, 'utf8') }))
    const indexes = texts.map((_, i) => i)
    const batch = encodeBatch(asText, indexes)
    assert.deepEqual(batch, encodeBatch(asBytes, indexes))
    decode(batch).records.forEach((r, i) => assert.equal(r.value!.toString('utf8'), texts[i]))
  })

  test('headers keep their order, repeated names and non-ASCII names', () => {
    const headers: [string, Buffer][] = [
      ['trace', Buffer.from('a')],
      ['trace', Buffer.from('b')],
      ['größe', Buffer.from('ü')],
      ['empty', Buffer.alloc(0)],
    ]
    const decoded = decode(
      encodeBatch(
        records(1, () => ({ headers })),
        [0],
      ),
    )
    assert.deepEqual(
      decoded.records[0]!.headers.map(([k, v]) => [k?.toString(), v?.toString()]),
      headers.map(([k, v]) => [k, v.toString()]),
    )
  })

  test('timestamps before the first record and more than 2^31 ms after it are exact', () => {
    const far = BASE + 2 ** 33 + 12_345
    const input = records(3, (i) => ({ timestamp: [BASE, BASE - 5_000, far][i]! }))
    const decoded = decode(encodeBatch(input, [0, 1, 2]))
    assert.deepEqual(
      decoded.records.map((r) => BigInt(BASE) + r.timestampDelta),
      [BigInt(BASE), BigInt(BASE - 5_000), BigInt(far)],
    )
    assert.equal(decoded.maxTimestamp, BigInt(far))
  })

  test('an idempotent batch carries the producer id, epoch and base sequence', () => {
    const input = records(3)
    const decoded = decode(
      encodeBatch(input, [0, 1, 2], 'none', {
        producerId: 4_000_000_123n,
        producerEpoch: 7,
        baseSequence: 2_000_000_000,
        transactional: true,
      }),
    )
    assert.equal(decoded.producerId, 4_000_000_123n)
    assert.equal(decoded.producerEpoch, 7)
    assert.equal(decoded.firstSequence, 2_000_000_000)
    assert.equal(decoded.attributes & (1 << 4), 1 << 4)
  })

  test('a batch without a producer says so with id -1, epoch -1 and sequence -1', () => {
    const decoded = decode(encodeBatch(records(1), [0]))
    assert.equal(decoded.producerId, -1n)
    assert.equal(decoded.producerEpoch, -1)
    assert.equal(decoded.firstSequence, -1)
  })

  for (const compression of ['gzip', 'snappy', 'lz4'] as Compression[]) {
    test(`a ${compression} batch decompresses to the same records`, () => {
      const input = records(200, (i) => ({
        value: Buffer.from(`a fairly repetitive value number ${i % 10}`),
      }))
      const batch = encodeBatch(
        input,
        input.map((_, i) => i),
        compression,
      )
      const decoded = decode(batch)
      assert.notEqual(decoded.attributes & 0b111, 0)
      assert.equal(decoded.crc, jsCRC32C(batch.subarray(21)))
      assert.equal(decoded.records.length, 200)
      assert.deepEqual(decoded.records[199]!.value, input[199]!.value)
    })
  }

  test('random records survive the round trip (sizes around the varint boundaries)', () => {
    let seed = 42
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed % n
    }
    for (let round = 0; round < 30; round++) {
      const sizes = [0, 1, 63, 64, 127, 128, 8_191, 8_192, 20_000]
      const input = records(1 + random(40), () => ({
        key: random(5) === 0 ? null : Buffer.alloc(sizes[random(sizes.length)]!, random(256)),
        value: Buffer.alloc(sizes[random(sizes.length)]!, random(256)),
        headers: random(3) === 0 ? [['h', Buffer.alloc(sizes[random(4)]!, 1)]] : undefined,
        timestamp: BASE + random(1_000_000) - 500_000,
      }))
      const decoded = decode(
        encodeBatch(
          input,
          input.map((_, i) => i),
        ),
      )
      decoded.records.forEach((r, i) => {
        assert.deepEqual(r.key, input[i]!.key)
        assert.deepEqual(r.value, input[i]!.value)
        assert.equal(Number(decoded.firstTimestamp + r.timestampDelta), input[i]!.timestamp)
        assert.equal(r.headers.length, input[i]!.headers?.length ?? 0)
      })
    }
  })

  test('an empty batch is refused', () => {
    assert.throws(() => encodeBatch([], []), /at least one record/)
  })
})
