/** kafka:// record batch decoding: offsets, timestamps, nulls, headers, markers, read_committed, codecs, truncation. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Reader, readRecordsBatches } from '@platformatic/kafka'
import { TributaryError } from '../../../../src/errors.js'
import { zstdAvailable } from '../../../../src/transport/kafka/options.js'
import { decodeBatches, type AbortedTransaction } from '../../../../src/transport/kafka/wire/batch-decode.js'
import type { ConsumedRecord } from '../../../../src/transport/types.js'
import { LOG_APPEND_TIME, batch, farTimestamps, marker, seal, values, type Message } from './batches.js'

function decode(
  data: Buffer | Buffer[],
  fromOffset = 0,
  aborted?: AbortedTransaction[],
): { records: ConsumedRecord[]; next: number } {
  const records: ConsumedRecord[] = []
  const bytes = Array.isArray(data) ? Buffer.concat(data) : data
  const next = decodeBatches(records, 't', 2, bytes, fromOffset, aborted)
  return { records, next }
}

const valuesOf = (records: ConsumedRecord[]): string[] => records.map((r) => r.value!.toString())

describe('record batch decoding (no broker)', () => {
  test('offsets and CreateTime timestamps are numbers from the batch base plus deltas', () => {
    const data = batch(
      [
        { value: Buffer.from('a'), timestamp: 1_700_000_000_000 },
        { value: Buffer.from('b'), timestamp: 1_700_000_000_009 },
        { value: Buffer.from('c'), timestamp: 1_699_999_999_000 },
      ],
      { baseOffset: 40 },
    )
    const { records, next } = decode(data, 40)
    assert.equal(next, 43)
    assert.deepEqual(
      records.map((r) => [r.topic, r.partition, r.offset, r.timestamp]),
      [
        ['t', 2, 40, 1_700_000_000_000],
        ['t', 2, 41, 1_700_000_000_009],
        ['t', 2, 42, 1_699_999_999_000],
      ],
    )
  })

  test('timestamp deltas of 2^31 ms and more, either way, come back exact', () => {
    const deltas = [0, 2 ** 31, 2 ** 33 + 5, -(2 ** 32) - 1, 2 ** 41]
    const { records } = decode(farTimestamps(0, 2 ** 40, deltas))
    assert.deepEqual(
      records.map((r) => r.timestamp),
      deltas.map((d) => 2 ** 40 + d),
    )
  })

  test('offsets above 2^32 come back exact', () => {
    const base = 2 ** 40 + 3
    const { records, next } = decode(values(base, 2), base)
    assert.deepEqual(
      records.map((r) => r.offset),
      [base, base + 1],
    )
    assert.equal(next, base + 2)
  })

  test('on a LogAppendTime batch every record gets the broker time (the batch max timestamp)', () => {
    const data = values(0, 3, { attributes: LOG_APPEND_TIME, maxTimestamp: 1_800_000_000_000 })
    assert.deepEqual(
      decode(data).records.map((r) => r.timestamp),
      [1_800_000_000_000, 1_800_000_000_000, 1_800_000_000_000],
    )
  })

  test('records before the fetched offset are skipped, and whole batches before it too', () => {
    const { records, next } = decode([values(5, 5), values(10, 5)], 13)
    assert.equal(next, 15)
    assert.deepEqual(valuesOf(records), ['v13', 'v14'])
  })

  test('a null key, an empty key, a null value and an empty value stay distinct, as views of the fetched bytes', () => {
    const data = batch([
      { key: null, value: null },
      { key: Buffer.alloc(0), value: Buffer.alloc(0) },
      { key: Buffer.from('k'), value: Buffer.from('v') },
    ])
    const [absent, empty, full] = decode(data).records
    assert.equal(absent?.key, null)
    assert.equal(absent?.value, null)
    assert.equal(empty?.key?.length, 0)
    assert.equal(empty?.value?.length, 0)
    assert.equal(full?.key?.toString(), 'k')
    assert.equal(full?.value?.toString(), 'v')
    // No copy: the value is a view of the response buffer.
    assert.equal(full?.value?.buffer, data.buffer)
  })

  test('headers keep order and repeated names; a null value becomes an empty buffer and a null name an empty string', () => {
    const data = batch([
      {
        value: Buffer.from('x'),
        headers: [
          [Buffer.from('trace'), Buffer.from('1')],
          [Buffer.from('trace'), null],
          [Buffer.from('ключ'), Buffer.from('значение')],
          [null, Buffer.from('z')],
        ],
      },
      { value: Buffer.from('y') },
    ])
    const [first, second] = decode(data).records
    assert.deepEqual(
      first?.headers.map(([k, v]) => [k, v.toString()]),
      [
        ['trace', '1'],
        ['trace', ''],
        ['ключ', 'значение'],
        ['', 'z'],
      ],
    )
    assert.deepEqual(second?.headers, [])
  })

  test('control batches are never records but move the next offset past them', () => {
    const { records, next } = decode([values(0, 2, { producerId: 7 }), marker(2, 7, 1)], 0, [])
    assert.equal(next, 3)
    assert.deepEqual(valuesOf(records), ['v0', 'v1'])
  })

  test('read_committed drops an aborted transaction up to its marker, keeping other producers and later transactions', () => {
    const data = [
      values(0, 2, { producerId: 1 }), // aborted
      values(2, 1, { producerId: 2 }), // committed later
      values(3, 1), // not transactional
      marker(4, 1, 0),
      values(5, 1, { producerId: 1 }), // the same producer's next transaction: committed
      marker(6, 2, 1),
      marker(7, 1, 1),
    ]
    const { records, next } = decode(data, 0, [{ producerId: 1, firstOffset: 0 }])
    assert.equal(next, 8)
    assert.deepEqual(valuesOf(records), ['v2', 'v3', 'v5'])
    // read_uncommitted (no list): everything but the markers.
    assert.deepEqual(valuesOf(decode(data).records), ['v0', 'v1', 'v2', 'v3', 'v5'])
  })

  test('an aborted transaction whose marker is not in this fetch is still dropped (the broker listed it)', () => {
    const data = [values(0, 3, { producerId: 9 }), values(3, 1, { producerId: 4 })]
    const { records, next } = decode(data, 0, [{ producerId: 9, firstOffset: 0 }])
    assert.deepEqual(valuesOf(records), ['v3'])
    assert.equal(next, 4)
  })

  test('a transactional batch is dropped only once the aborted transaction it belongs to has begun', () => {
    const data = [values(0, 2, { producerId: 3 }), marker(2, 3, 1), values(3, 2, { producerId: 3 })]
    const { records } = decode(data, 0, [{ producerId: 3, firstOffset: 3 }])
    assert.deepEqual(valuesOf(records), ['v0', 'v1'])
  })

  for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    test(`a ${compression} batch decodes like an uncompressed one, from an offset inside it`, (t) => {
      if (compression === 'zstd' && !zstdAvailable) {
        t.skip('this Node.js has no zstd')
        return
      }
      const messages = Array.from({ length: 50 }, (_, i) => ({
        key: i % 3 === 0 ? null : Buffer.from(`k${i}`),
        value: Buffer.from(`v${10 + i} `.repeat(i)),
        headers: [[Buffer.from('h'), Buffer.from(String(i))]] as Array<[Buffer, Buffer]>,
        timestamp: 1_700_000_000_000 + i * 7,
      }))
      const plain = decode(batch(messages, { baseOffset: 10 }), 20)
      const packed = batch(messages, { baseOffset: 10, compression })
      assert.notEqual(packed.readInt16BE(21) & 7, 0)
      const unpacked = decode(packed, 20)
      assert.equal(unpacked.next, 60)
      assert.equal(unpacked.records.length, 40)
      assert.deepEqual(unpacked.records, plain.records)
    })
  }

  test('a batch cut short at the end of the response is left for the next fetch, wherever the cut falls', () => {
    const whole = [values(0, 3), values(3, 3)]
    const bytes = Buffer.concat(whole)
    for (let cut = whole[0]!.length; cut < bytes.length; cut++) {
      const { records, next } = decode(bytes.subarray(0, cut))
      assert.equal(next, 3, `cut at byte ${cut}`)
      assert.deepEqual(valuesOf(records), ['v0', 'v1', 'v2'])
    }
    assert.deepEqual(decode(bytes.subarray(0, 11)), { records: [], next: 0 })
  })

  test('a batch of the old message format (magic 0 or 1) is refused with its offset', () => {
    const data = values(7, 1)
    data.writeInt8(1, 16)
    assert.throws(
      () => decode(data, 7),
      (error: unknown) =>
        error instanceof TributaryError &&
        error.offset === 7 &&
        /magic 1.*v2 record format/.test(error.message),
    )
  })

  test('a corrupt batch is refused with its offset, and the records before it are kept', () => {
    const bad = values(3, 2)
    bad.writeUInt8(bad.readUInt8(bad.length - 1) ^ 0xff, bad.length - 1)
    const records: ConsumedRecord[] = []
    assert.throws(
      () => decodeBatches(records, 't', 0, Buffer.concat([values(0, 3), bad]), 0, undefined),
      (error: unknown) =>
        error instanceof TributaryError &&
        error.code === 'KAFKA' &&
        error.offset === 3 &&
        error.topic === 't' &&
        /CRC/.test(error.message),
    )
    assert.deepEqual(valuesOf(records), ['v0', 'v1', 'v2'])
  })

  test('records that do not fit their batch are refused even when the CRC matches', () => {
    const data = values(0, 2)
    data.writeInt32BE(3, 57) // one record more than the batch holds
    assert.throws(
      () => decode(seal(data)),
      (error: unknown) => error instanceof TributaryError && /malformed/.test(error.message),
    )
  })

  test('a batch in an unknown codec is refused as not supported', () => {
    const data = values(0, 1)
    data.writeInt16BE(data.readInt16BE(21) | 7, 21)
    assert.throws(
      () => decode(seal(data)),
      (error: unknown) =>
        error instanceof TributaryError && error.code === 'NOT_SUPPORTED' && /codec 7/.test(error.message),
    )
  })
})

/** A small seeded generator (mulberry32), so a failing case can be replayed. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)
  }
}

/** What platformatic's own decoder reads from the same bytes, as the records we promise. */
function platformaticReads(bytes: Buffer, fromOffset: number): ConsumedRecord[] {
  const out: ConsumedRecord[] = []
  for (const b of readRecordsBatches(Reader.from(bytes))) {
    for (const r of b.records) {
      const offset = Number(b.firstOffset) + r.offsetDelta
      if (offset < fromOffset) continue
      out.push({
        topic: 't',
        partition: 2,
        offset,
        timestamp: Number(b.firstTimestamp + r.timestampDelta),
        key: r.key,
        value: r.value,
        headers: r.headers.map(([k, v]) => [k === null ? '' : k.toString(), v ?? Buffer.alloc(0)]),
      })
    }
  }
  return out
}

describe('record batch decoding against platformatic (no broker)', () => {
  const NAMES = ['a', 'trace', 'ключ', '', 'x-long-header-name']
  const CODECS = ['none', 'gzip', 'snappy', 'lz4'] as const
  const bytesOf = (next: (n: number) => number, max: number): Buffer | null => {
    const kind = next(8)
    if (kind === 0) return null
    if (kind === 1) return Buffer.alloc(0)
    return Buffer.from(Array.from({ length: next(max) }, () => next(256)))
  }

  test('random batches decode to the records platformatic reads from the same bytes', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const next = random(seed)
      const batches: Buffer[] = []
      let base = next(2) === 0 ? 0 : next(2 ** 40)
      const first = base
      for (let b = 0, count = 1 + next(4); b < count; b++) {
        const messages: Message[] = Array.from({ length: 1 + next(20) }, () => ({
          key: bytesOf(next, 40),
          value: bytesOf(next, 300),
          headers: Array.from({ length: next(2) === 0 ? 0 : next(5) }, () => [
            next(10) === 0 ? null : Buffer.from(NAMES[next(NAMES.length)]!),
            bytesOf(next, 20),
          ]),
          // Within platformatic's reach: its varlong writer is exact below 2^31 only.
          timestamp: 1_700_000_000_000 + next(2 ** 30) - 2 ** 29,
        }))
        batches.push(batch(messages, { baseOffset: base, compression: CODECS[next(CODECS.length)]! }))
        // Compaction leaves gaps between batches.
        base += messages.length + (next(3) === 0 ? next(100) : 0)
      }
      let bytes = Buffer.concat(batches)
      if (next(4) === 0) bytes = bytes.subarray(0, bytes.length - 1 - next(batches.at(-1)!.length - 1))
      const fromOffset = first + next(10)
      const records: ConsumedRecord[] = []
      decodeBatches(records, 't', 2, bytes, fromOffset, undefined)
      assert.deepEqual(records, platformaticReads(bytes, fromOffset), `seed ${seed}`)
    }
  })
})
