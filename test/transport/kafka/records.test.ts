/** kafka:// record conversion: headers as ordered lists, bigint offsets and timestamps as numbers, transaction markers. */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { RecordsBatch } from '@platformatic/kafka'
import { appendRecords, toHeaderMap, toMessage } from '../../../src/transport/kafka/records.js'
import type { ConsumedRecord, Transport } from '../../../src/transport/types.js'
import { createTopic, open, pollUntil } from './helpers.js'

const CONTROL = 1 << 5
const TRANSACTIONAL = 1 << 4
const LOG_APPEND_TIME = 1 << 3

function batch(firstOffset: number, count: number, options: Partial<RecordsBatch> = {}): RecordsBatch {
  return {
    firstOffset: BigInt(firstOffset),
    length: 0,
    partitionLeaderEpoch: 0,
    magic: 2,
    crc: 0,
    attributes: 0,
    lastOffsetDelta: count - 1,
    firstTimestamp: 1_700_000_000_000n,
    maxTimestamp: 1_700_000_000_000n + BigInt(count - 1),
    producerId: -1n,
    producerEpoch: -1,
    firstSequence: 0,
    records: Array.from({ length: count }, (_, i) => ({
      length: 0,
      attributes: 0,
      timestampDelta: BigInt(i),
      offsetDelta: i,
      key: null,
      value: Buffer.from(`v${firstOffset + i}`),
      headers: [],
    })),
    ...options,
  }
}

/** A commit (type 1) or abort (type 0) marker batch of a producer. */
function marker(offset: number, producerId: bigint, type: 0 | 1): RecordsBatch {
  const key = Buffer.alloc(4)
  key.writeInt16BE(type, 2)
  const control = batch(offset, 1, { attributes: CONTROL | TRANSACTIONAL, producerId })
  control.records[0]!.key = key
  return control
}

const values = (records: ConsumedRecord[]): string[] => records.map((r) => r.value!.toString())

describe('record conversion (no broker)', () => {
  test('headers become a Map with one Buffer key per entry, so repeated names stay, in order', () => {
    const map = toHeaderMap([
      ['trace', Buffer.from('a')],
      ['trace', Buffer.from('b')],
      ['é', Buffer.from('c')],
    ])
    assert.deepEqual(
      [...map].map(([k, v]) => [k.toString(), v.toString()]),
      [
        ['trace', 'a'],
        ['trace', 'b'],
        ['é', 'c'],
      ],
    )
  })

  test('a record to produce keeps null as absent, and the timestamp becomes a bigint', () => {
    const message = toMessage('t', 3, null, null, [], 1_700_000_000_123)
    assert.equal(message.key, undefined)
    assert.equal(message.value, undefined)
    assert.equal(message.headers, undefined)
    assert.equal(message.partition, 3)
    assert.equal(message.timestamp, 1_700_000_000_123n)
  })

  test('offsets and CreateTime timestamps are numbers from the batch base plus deltas', () => {
    const out: ConsumedRecord[] = []
    const next = appendRecords(out, 't', 2, [batch(40, 3)], 40, undefined)
    assert.equal(next, 43)
    assert.deepEqual(
      out.map((r) => [r.topic, r.partition, r.offset, r.timestamp]),
      [
        ['t', 2, 40, 1_700_000_000_000],
        ['t', 2, 41, 1_700_000_000_001],
        ['t', 2, 42, 1_700_000_000_002],
      ],
    )
  })

  test('on a LogAppendTime batch every record gets the broker time (the batch max timestamp)', () => {
    const out: ConsumedRecord[] = []
    appendRecords(
      out,
      't',
      0,
      [batch(0, 3, { attributes: LOG_APPEND_TIME, maxTimestamp: 1_800_000_000_000n })],
      0,
      undefined,
    )
    assert.deepEqual(
      out.map((r) => r.timestamp),
      [1_800_000_000_000, 1_800_000_000_000, 1_800_000_000_000],
    )
  })

  test('records before the fetched offset (the start of a compressed batch) are skipped', () => {
    const out: ConsumedRecord[] = []
    assert.equal(appendRecords(out, 't', 0, [batch(10, 5)], 13, undefined), 15)
    assert.deepEqual(values(out), ['v13', 'v14'])
  })

  test('header pairs become [name, value] in order; a null header value becomes an empty buffer', () => {
    const b = batch(0, 1)
    b.records[0]!.headers = [
      [Buffer.from('x'), Buffer.from('1')],
      [Buffer.from('x'), null],
    ]
    const out: ConsumedRecord[] = []
    appendRecords(out, 't', 0, [b], 0, undefined)
    assert.deepEqual(
      out[0]!.headers.map(([k, v]) => [k, v.toString()]),
      [
        ['x', '1'],
        ['x', ''],
      ],
    )
  })

  test('control batches are never records but move the next offset past them', () => {
    const out: ConsumedRecord[] = []
    const next = appendRecords(
      out,
      't',
      0,
      [batch(0, 2, { attributes: TRANSACTIONAL, producerId: 7n }), marker(2, 7n, 1)],
      0,
      [],
    )
    assert.equal(next, 3)
    assert.deepEqual(values(out), ['v0', 'v1'])
  })

  test('read_committed drops an aborted transaction up to its marker, keeping other producers and later transactions', () => {
    const txn = { attributes: TRANSACTIONAL }
    const batches = [
      batch(0, 2, { ...txn, producerId: 1n }), // aborted
      batch(2, 1, { ...txn, producerId: 2n }), // committed later
      batch(3, 1, { producerId: -1n }), // not transactional
      marker(4, 1n, 0),
      batch(5, 1, { ...txn, producerId: 1n }), // the same producer's next transaction: committed
      marker(6, 2n, 1),
      marker(7, 1n, 1),
    ]
    const out: ConsumedRecord[] = []
    const next = appendRecords(out, 't', 0, batches, 0, [{ producerId: 1n, firstOffset: 0n }])
    assert.equal(next, 8)
    assert.deepEqual(values(out), ['v2', 'v3', 'v5'])
  })

  test('an aborted transaction whose marker is not in this fetch is still dropped (the broker listed it)', () => {
    const out: ConsumedRecord[] = []
    appendRecords(out, 't', 0, [batch(0, 3, { attributes: TRANSACTIONAL, producerId: 9n })], 0, [
      { producerId: 9n, firstOffset: 0n },
    ])
    assert.deepEqual(out, [])
  })
})

describe('record conversion through the broker', () => {
  let transport: Transport
  before(() => {
    transport = open()
  })
  after(async () => {
    await transport.close()
  })

  test('headers with repeated, empty and non-ASCII names and values survive, and so do extreme timestamps', async () => {
    // retention.ms=-1: records stamped 1970 are past any retention, and the broker would delete them.
    const topic = await createTopic(transport, 1, { 'retention.ms': '-1' })
    const headers: Array<[string, Buffer]> = [
      ['', Buffer.alloc(0)],
      ['ключ', Buffer.from('значение')],
      ['dup', Buffer.from([0])],
      ['dup', Buffer.from([1, 2])],
    ]
    const timestamps = [0, 1, 2 ** 40 + 7, Date.UTC(2024, 1, 29), Date.now(), 1]
    await transport
      .producer()
      .send(timestamps.map((timestamp, i) => ({ topic, value: Buffer.from(String(i)), headers, timestamp })))
    const consumer = transport.consumer()
    await consumer.assign([{ topic, partition: 0, from: 'earliest' }])
    const records = await pollUntil(consumer, (all) => all.length >= timestamps.length)
    await consumer.close()
    assert.deepEqual(
      records.map((r) => r.timestamp),
      timestamps,
    )
    for (const record of records) {
      assert.deepEqual(
        record.headers.map(([k, v]) => [k, [...v]]),
        headers.map(([k, v]) => [k, [...v]]),
      )
      assert.equal(typeof record.offset, 'number')
    }
  })

  test('an empty key and a null key stay distinct, and an empty value is not a tombstone', async () => {
    const topic = await createTopic(transport)
    await transport.producer().send([
      { topic, key: Buffer.alloc(0), value: Buffer.alloc(0) },
      { topic, key: null, value: null },
    ])
    const consumer = transport.consumer()
    await consumer.assign([{ topic, partition: 0, from: 'earliest' }])
    const [empty, absent] = await pollUntil(consumer, (all) => all.length >= 2)
    await consumer.close()
    assert.equal(empty?.key?.length, 0)
    assert.equal(empty?.value?.length, 0)
    assert.equal(absent?.key, null)
    assert.equal(absent?.value, null)
  })
})
