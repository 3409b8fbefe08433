import assert from 'node:assert/strict'
import { test } from 'node:test'
import { murmur2, partitionForKey } from '../../src/transport/partitioner.js'

// Values printed by the Java client 4.1.2: Utils.murmur2(key.getBytes(UTF_8)) and
// Utils.toPositive(murmur2) % 6, so that Tributary and Java producers agree on every key.
const JAVA: Array<[string, number, number]> = [
  ['', 275646681, 3],
  ['a', -1563381124, 4],
  ['ab', 316155434, 2],
  ['abc', 479470107, 3],
  ['abcd', -1323649548, 2],
  ['video-42', -477647116, 4],
  ['vendor-1', -1082594672, 0],
  ['tributary', 77843494, 4],
  ['0123456789abcdefXYZ', 733427488, 4],
  ['été', -2101193575, 1],
]

test('murmur2 gives the same hash as the Java client for keys of every length modulo 4', () => {
  for (const [key, hash] of JAVA)
    assert.equal(murmur2(Buffer.from(key)), hash, `murmur2(${JSON.stringify(key)})`)
})

test('a key goes to the same partition of six as with the Java client', () => {
  for (const [key, , partition] of JAVA) assert.equal(partitionForKey(Buffer.from(key), 6), partition, key)
})

test('partitionForKey is always within range, negative hashes included', () => {
  for (let i = 0; i < 2000; i++) {
    const p = partitionForKey(Buffer.from(`key-${i}`), 7)
    assert.ok(p >= 0 && p < 7)
  }
})
