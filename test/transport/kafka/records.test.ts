/** kafka:// record conversion: headers as ordered lists both ways, nulls and timestamps through the broker (decoding: wire/). */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { toHeaderMap, toMessage } from '../../../src/transport/kafka/records.js'
import type { Transport } from '../../../src/transport/types.js'
import { createTopic, open, pollUntil } from './helpers.js'

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
