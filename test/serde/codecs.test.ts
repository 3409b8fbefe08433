import assert from 'node:assert/strict'
import { test } from 'node:test'
import { codec, json, nullable, raw, string } from '../../src/index.js'
import type { Schema } from '../../src/index.js'

test('raw passes bytes and null through unchanged', () => {
  const bytes = Buffer.from([0, 1, 255])
  assert.equal(raw.decode(bytes), bytes)
  assert.equal(raw.encode(null), null)
})

test('string decodes UTF-8 and refuses bytes that are not UTF-8', () => {
  assert.equal(string.decode(Buffer.from('été')), 'été')
  assert.equal(string.decode(null), null)
  assert.throws(() => string.decode(Buffer.from([0xc3, 0x28])), /not valid UTF-8/)
  assert.equal(string.decode(Buffer.from('\uFFFD literal')), '\uFFFD literal', 'a real U+FFFD is fine')
})

test('json round-trips values and refuses a tombstone unless wrapped in nullable', () => {
  const c = json<{ a: number }>()
  assert.deepEqual(c.decode(c.encode({ a: 1 })), { a: 1 })
  assert.throws(() => c.decode(null), /tombstone/)
  assert.throws(() => c.decode(Buffer.from('{bad')), SyntaxError)
  assert.equal(nullable(c).decode(null), null)
  assert.equal(nullable(c).encode(null), null)
})

test('json with a schema validates what it decodes and what it encodes, with the schema message', () => {
  // Anything with zod's parse() works; a hand-written one keeps this test free of zod.
  const ride: Schema<{ total_amount: number }> = {
    parse(input) {
      const value = input as { total_amount?: unknown }
      if (typeof value?.total_amount !== 'number') throw new Error('total_amount: expected a number')
      return { total_amount: value.total_amount }
    },
  }
  const c = json(ride)
  assert.equal(c.name, 'json+schema')
  assert.deepEqual(c.decode(Buffer.from('{"total_amount": 12.5, "extra": true}')), { total_amount: 12.5 })
  assert.throws(() => c.decode(Buffer.from('{"total_amount": "12"}')), /total_amount: expected a number/)
  assert.throws(
    () => c.encode({ total_amount: 'x' } as unknown as { total_amount: number }),
    /expected a number/,
  )
})

test('codec() builds a custom codec from two functions', () => {
  const upper = codec<string>(
    'upper',
    (v) => Buffer.from(v.toUpperCase()),
    (b) => (b ?? Buffer.alloc(0)).toString(),
  )
  assert.equal(upper.name, 'upper')
  assert.equal(upper.decode(upper.encode('abc')), 'ABC')
})

test('the text form of json and string stands for the same bytes as their encode, null and schema included', () => {
  const c = json<{ city: string; fare: number }>()
  const value = { city: 'Zürich 北京', fare: 12.5 }
  assert.deepEqual(Buffer.from(c.encodeText!(value)!, 'utf8'), c.encode(value))
  assert.equal(string.encodeText!('été'), 'été')
  assert.equal(string.encodeText!(null), null)
  const maybe = nullable(c)
  assert.equal(maybe.encodeText!(null), null)
  assert.equal(maybe.encodeText!(value), c.encodeText!(value))
  assert.equal(nullable(raw).encodeText, undefined, 'a codec of bytes has no text form')
  const strict = json<{ n: number }>({
    parse(input) {
      if (typeof (input as { n?: unknown }).n !== 'number') throw new Error('n: expected a number')
      return input as { n: number }
    },
  })
  assert.throws(() => strict.encodeText!({ n: 'x' } as unknown as { n: number }), /n: expected a number/)
  assert.throws(() => c.encodeText!(undefined as unknown as { city: string; fare: number }), /no JSON form/)
  assert.throws(() => c.encode(undefined as unknown as { city: string; fare: number }), /no JSON form/)
})
