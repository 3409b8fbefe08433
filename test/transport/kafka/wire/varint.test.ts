/** kafka:// wire varints and cursor: the bytes of the Kafka protocol, exact beyond 32 bits, bounds checked. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Cursor, varintSize, writeVarint } from '../../../../src/transport/kafka/wire/varint.js'

/** Zigzag varints as Kafka's ByteUtils writes them (worked out by hand from the LEB128 rule). */
const VECTORS: Array<[number, string]> = [
  [0, '00'],
  [-1, '01'],
  [1, '02'],
  [-2, '03'],
  [63, '7e'],
  [-65, '8101'],
  [2 ** 31 - 1, 'feffffff0f'],
  [-(2 ** 31), 'ffffffff0f'],
  [2 ** 33 + 5, '8a80808040'],
  [-(2 ** 40 + 7), '8d8080808040'],
]

describe('wire varints (no broker)', () => {
  for (const [n, hex] of VECTORS) {
    test(`${n} is written as ${hex} and read back`, () => {
      const buffer = Buffer.alloc(varintSize(n))
      assert.equal(writeVarint(buffer, 0, n), buffer.length)
      assert.equal(buffer.toString('hex'), hex)
      const cursor = new Cursor(Buffer.from(hex, 'hex'))
      assert.equal(cursor.varint(), n)
      assert.equal(cursor.position, buffer.length)
    })
  }

  test('values up to 2^52 either way round-trip exactly', () => {
    for (let bits = 0; bits <= 52; bits++) {
      for (const n of [2 ** bits, -(2 ** bits), 2 ** bits - 1, -(2 ** bits) + 1]) {
        const buffer = Buffer.alloc(varintSize(n))
        writeVarint(buffer, 0, n)
        assert.equal(new Cursor(buffer).varint(), n, `2^${bits} family: ${n}`)
      }
    }
  })

  test('int64 reads are exact beyond 2^32, negative ones too', () => {
    const buffer = Buffer.alloc(24)
    buffer.writeBigInt64BE(2n ** 40n + 3n, 0)
    buffer.writeBigInt64BE(-1n, 8)
    buffer.writeBigInt64BE(-(2n ** 33n), 16)
    const cursor = new Cursor(buffer)
    assert.deepEqual([cursor.int64(), cursor.int64(), cursor.int64()], [2 ** 40 + 3, -1, -(2 ** 33)])
  })

  test('a read past the end throws a RangeError naming the offset, and a varint may end the data', () => {
    assert.throws(() => new Cursor(Buffer.from('8080', 'hex')).varint(), /truncated varint at byte 0/)
    assert.throws(() => new Cursor(Buffer.alloc(3)).int32(), /4 bytes wanted at byte 0 of 3/)
    const cursor = new Cursor(Buffer.from('0aff', 'hex'), 0, 1)
    assert.equal(cursor.varint(), 5)
    assert.throws(() => cursor.int8(), RangeError)
  })

  test('strings, UUIDs, byte views and tagged fields are read where they lie', () => {
    const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
    // Two tagged fields (tag 0 of 2 bytes, tag 5 of 0 bytes), then "hé" and 2 bytes.
    const data = Buffer.concat([
      uuid,
      Buffer.from('02000201020500', 'hex'),
      Buffer.from('hé'),
      Buffer.from([7, 8]),
    ])
    const cursor = new Cursor(data)
    assert.equal(cursor.uuid(), '00112233-4455-6677-8899-aabbccddeeff')
    cursor.skipTaggedFields()
    assert.equal(cursor.utf8(3), 'hé')
    const view = cursor.bytes(2)
    assert.deepEqual([...view], [7, 8])
    assert.equal(view.buffer, data.buffer)
    assert.equal(cursor.position, data.length)
  })
})
