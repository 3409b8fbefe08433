import assert from 'node:assert/strict'
import { test } from 'node:test'
import { json, string } from '../../src/index.js'
import { partitionForKey } from '../../src/transport/partitioner.js'
import { recordKeyBytes, storedCodec, windowedCodec } from '../../src/windows/keys.js'

test('a windowed key decodes to its key and window, and sorts by key, then window start', () => {
  const codec = windowedCodec(string)
  const a = codec.encode({ key: 'video-1', window: { start: 60_000, end: 120_000 } })!
  assert.deepEqual(codec.decode(a), { key: 'video-1', window: { start: 60_000, end: 120_000 } })
  const encoded = [
    { key: 'video-2', window: { start: 0, end: 60_000 } },
    { key: 'video-1', window: { start: 1_700_000_040_000, end: 1_700_000_100_000 } },
    { key: 'video-1', window: { start: 60_000, end: 120_000 } },
  ].map((w) => codec.encode(w)!)
  assert.deepEqual(
    encoded
      .sort((a, b) => Buffer.compare(a, b))
      .map((b) => `${codec.decode(b).key}@${codec.decode(b).window.start}`),
    ['video-1@60000', 'video-1@1700000040000', 'video-2@0'],
  )
})

test('a windowed key is on the partition of its record key', () => {
  const codec = windowedCodec(string)
  for (const key of ['a', 'video-17', 'ü-key']) {
    const bytes = codec.encode({ key, window: { start: 5, end: 10 } })!
    assert.deepEqual(recordKeyBytes(bytes), string.encode(key))
    assert.equal(partitionForKey(recordKeyBytes(bytes)!, 12), partitionForKey(string.encode(key)!, 12))
  }
})

test('a null key is refused', () => {
  const codec = windowedCodec<string | null>(string)
  assert.throws(() => codec.encode({ key: null, window: { start: 0, end: 1 } }), /cannot be null/)
  assert.throws(() => codec.decode(null), /cannot be null/)
  assert.throws(() => recordKeyBytes(Buffer.alloc(3)), /at least 16 bytes, got 3/)
})

test('a stored window keeps its latest record time when it has one, and the stream-time entry is told apart', () => {
  const codec = storedCodec(json<number>())
  for (const stored of [{ value: 3 }, { value: 4, latest: 1_700_000_000_123 }, { streamTime: 42 }])
    assert.deepEqual(codec.decode(codec.encode(stored)), stored)
  assert.throws(() => codec.decode(Buffer.of(9, 0)), /starts with tag 9; 0, 1 or 2 expected/)
})
