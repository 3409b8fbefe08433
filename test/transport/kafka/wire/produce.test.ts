/** kafka:// Produce v9 framing: the request as the broker reads it, the response as the broker writes it. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Reader } from '@platformatic/kafka'
import { parseProduceResponse, produceRequest } from '../../../../src/transport/kafka/wire/produce.js'
import { Cursor, writeUvarint } from '../../../../src/transport/kafka/wire/varint.js'

const compactString = (c: Cursor): string | null => {
  const length = c.uvarint() - 1
  return length < 0 ? null : c.bytes(length).toString()
}

describe('Produce v9 framing', () => {
  test('the request lists each topic and partition with its batch as compact records', () => {
    const a = Buffer.from('batch-a')
    const b = Buffer.alloc(300, 7)
    const writer = produceRequest(undefined, -1, 30_000, [
      { topic: 'rides', partitions: [{ partition: 0, batch: a }] },
      { topic: 'größe', partitions: [{ partition: 5, batch: b }] },
    ])
    const c = new Cursor(writer.buffer)
    assert.equal(compactString(c), null)
    assert.equal(c.int16(), -1)
    assert.equal(c.int32(), 30_000)
    assert.equal(c.uvarint() - 1, 2)
    assert.equal(compactString(c), 'rides')
    assert.equal(c.uvarint() - 1, 1)
    assert.equal(c.int32(), 0)
    assert.deepEqual(c.bytes(c.uvarint() - 1), a)
    c.skipTaggedFields()
    c.skipTaggedFields()
    assert.equal(compactString(c), 'größe')
    assert.equal(c.uvarint() - 1, 1)
    assert.equal(c.int32(), 5)
    assert.deepEqual(c.bytes(c.uvarint() - 1), b)
    c.skipTaggedFields()
    c.skipTaggedFields()
    c.skipTaggedFields()
    assert.equal(c.position, c.end)
    assert.equal(writer.context.noResponse, undefined)
  })

  test('a transactional id is written, and acks 0 expects no response', () => {
    const writer = produceRequest('tx-1', 0, 1_000, [])
    const c = new Cursor(writer.buffer)
    assert.equal(compactString(c), 'tx-1')
    assert.equal(c.int16(), 0)
    assert.equal(writer.context.noResponse, true)
  })

  test('the response gives each partition its error code, base offset and the broker message', () => {
    const parts: Buffer[] = []
    const uv = (n: number): Buffer => {
      const b = Buffer.alloc(10)
      return b.subarray(0, writeUvarint(b, 0, n))
    }
    const str = (s: string | null): Buffer =>
      s === null ? uv(0) : Buffer.concat([uv(Buffer.byteLength(s) + 1), Buffer.from(s)])
    const i16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff])
    const i32 = (n: number): Buffer => {
      const b = Buffer.alloc(4)
      b.writeInt32BE(n)
      return b
    }
    const i64 = (n: bigint): Buffer => {
      const b = Buffer.alloc(8)
      b.writeBigInt64BE(n)
      return b
    }
    parts.push(uv(2), str('rides'), uv(4))
    // partition 0: written at offset 2^40
    parts.push(i32(0), i16(0), i64(2n ** 40n), i64(-1n), i64(0n), uv(1), str(null), uv(0))
    // partition 1: refused, with a record error and no message
    parts.push(i32(1), i16(87), i64(-1n), i64(-1n), i64(0n), uv(2), i32(3), str('bad timestamp'), uv(0))
    parts.push(str(null), uv(0))
    // partition 2: refused, with a message and a tagged field to skip
    parts.push(i32(2), i16(6), i64(-1n), i64(-1n), i64(0n), uv(1), str('not the leader'))
    parts.push(uv(1), uv(0), uv(2), Buffer.from([1, 2]))
    parts.push(uv(0)) // topic tags
    parts.push(i32(0), uv(0)) // throttle, tags
    const answers = parseProduceResponse(0, 0, 9, Reader.from(Buffer.concat(parts)))
    assert.deepEqual(answers, [
      { topic: 'rides', partition: 0, errorCode: 0, baseOffset: 2 ** 40, message: null },
      {
        topic: 'rides',
        partition: 1,
        errorCode: 87,
        baseOffset: -1,
        message: 'record 3 of the batch: bad timestamp',
      },
      { topic: 'rides', partition: 2, errorCode: 6, baseOffset: -1, message: 'not the leader' },
    ])
  })

  test('a truncated response is an error, not a partial answer', () => {
    assert.throws(() => parseProduceResponse(0, 0, 9, Reader.from(Buffer.from([2, 6, 0x72]))), /truncated/)
  })
})
