import assert from 'node:assert/strict'
import { test } from 'node:test'
import { codec, json, nullable, raw, string } from '../../src/index.js'
import { describeValue } from '../../src/serde/codecs.js'
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
  assert.throws(
    () => c.encodeText!(undefined as unknown as { city: string; fare: number }),
    /expected a value with a JSON form, got undefined/,
  )
  assert.throws(
    () => c.encode(undefined as unknown as { city: string; fare: number }),
    /expected a value with a JSON form, got undefined/,
  )
})

test('string refuses to encode what is not a string, naming the type it got', () => {
  assert.throws(() => string.encode(5 as unknown as string), /^TypeError: expected a string, got number 5$/)
  assert.throws(
    () => string.encodeText!({ a: 1 } as unknown as string),
    /expected a string, got object \{"a":1\}/,
  )
  assert.deepEqual(string.encode('é'), Buffer.from('é'))
  assert.equal(string.encode(null), null)
})

test('describeValue shows the type and a short rendering of a value', () => {
  assert.equal(describeValue(5), 'number 5')
  assert.equal(describeValue('5'), 'string "5"')
  assert.equal(describeValue(10n), 'bigint 10n')
  assert.equal(describeValue([1, 2]), 'array [1,2]')
  assert.equal(describeValue(undefined), 'undefined')
  assert.equal(describeValue(null), 'null')
  assert.equal(describeValue(Buffer.from('abc')), 'a Buffer of 3 bytes')
  assert.equal(
    describeValue(() => 1),
    'a function',
  )
  assert.equal(describeValue({ note: 'x'.repeat(100) }), `object {"note":"${'x'.repeat(48)}...`)
  const circular: { self?: unknown } = {}
  circular.self = circular
  assert.equal(describeValue(circular), 'object [object Object]')
})
