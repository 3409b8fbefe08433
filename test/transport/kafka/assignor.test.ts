/** kafka:// group wire format: ConsumerProtocolSubscription v2 and ConsumerProtocolAssignment, byte for byte. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../../../src/transport/kafka/assignor.js'

const owned = [
  { topic: 'b', partition: 3 },
  { topic: 'a', partition: 1 },
  { topic: 'a', partition: 0 },
]

describe('kafka:// consumer protocol codecs', () => {
  test('a v2 subscription carries topics, the assignor user data untouched, owned partitions and their generation', () => {
    const userData = Buffer.from([0, 255, 7, 0x80, 1])
    const bytes = encodeSubscription({ topics: ['b', 'a'], owned, generation: 42, userData })
    assert.equal(bytes.readInt16BE(0), 2, 'version 2 (KIP-792 generation_id)')
    const decoded = decodeSubscription(bytes)
    assert.deepEqual(decoded.topics, ['a', 'b'])
    assert.deepEqual([...decoded.userData!], [...userData])
    assert.deepEqual(decoded.owned, [
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 },
      { topic: 'b', partition: 3 },
    ])
    assert.equal(decoded.generation, 42)
  })

  test('null user data stays null in a subscription, and empty user data stays empty', () => {
    const none = decodeSubscription(
      encodeSubscription({ topics: ['t'], owned: [], generation: -1, userData: null }),
    )
    assert.equal(none.userData, null)
    const empty = decodeSubscription(
      encodeSubscription({ topics: ['t'], owned: [], generation: -1, userData: Buffer.alloc(0) }),
    )
    assert.deepEqual(empty.userData, Buffer.alloc(0))
  })

  test('a nonce changes the bytes a follower sends but nothing a reader decodes', () => {
    const subscription = { topics: ['t'], owned, generation: 5, userData: Buffer.from('u') }
    const plain = encodeSubscription(subscription)
    const forced = encodeSubscription(subscription, 1)
    assert.notDeepEqual(forced, plain)
    assert.notDeepEqual(encodeSubscription(subscription, 2), forced)
    assert.deepEqual(decodeSubscription(forced), decodeSubscription(plain))
  })

  test('older subscription versions decode without owned partitions (v0) or generation (v0, v1)', () => {
    // v0: version, topics, user data.
    const v0 = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 0, 1, 0, 1]),
      Buffer.from('t'),
      Buffer.from([0, 0, 0, 2, 9, 9]),
    ])
    assert.deepEqual(decodeSubscription(v0), {
      topics: ['t'],
      owned: [],
      generation: -1,
      userData: Buffer.from([9, 9]),
    })
    // v1: v0 plus owned partitions [t: 4].
    const v1 = Buffer.concat([
      Buffer.from([0, 1, 0, 0, 0, 1, 0, 1]),
      Buffer.from('t'),
      Buffer.from([255, 255, 255, 255, 0, 0, 0, 1, 0, 1]),
      Buffer.from('t'),
      Buffer.from([0, 0, 0, 1, 0, 0, 0, 4]),
    ])
    assert.deepEqual(decodeSubscription(v1), {
      topics: ['t'],
      owned: [{ topic: 't', partition: 4 }],
      generation: -1,
      userData: null,
    })
  })

  test('an assignment carries partitions and the assignor user data; none reads back as null', () => {
    const userData = Buffer.from('host-map')
    const decoded = decodeAssignment(encodeAssignment({ partitions: owned, userData }))
    assert.equal(decoded.partitions.length, 3)
    assert.deepEqual([...decoded.userData!], [...userData])
    assert.equal(decodeAssignment(encodeAssignment({ partitions: [], userData: null })).userData, null)
    // Written as empty bytes, never -1: platformatic's describeGroups reads the field as a compact length.
    const bytes = encodeAssignment({ partitions: [], userData: null })
    assert.equal(bytes.readInt32BE(bytes.length - 4), 0)
  })
})
