import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../../../src/runtime/assignment/user-data.js'
import { TributaryError } from '../../../src/errors.js'

const info = {
  workerId: '6f1c2a0e-7d0b-4c55-9a53-3f0d1b8e2c11',
  url: 'http://10.0.0.7:6066',
  ownedTasks: ['0_1', '1_1'],
  taskOffsets: { '0_1': 1200, '2_0': 5 },
}

const refused = (decode: () => unknown, pattern: RegExp): void => {
  assert.throws(
    decode,
    (e: unknown) => e instanceof TributaryError && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message),
  )
}

test('subscription user data comes back as it was encoded, behind version byte 1', () => {
  const bytes = encodeSubscription(info)
  assert.equal(bytes[0], 1)
  assert.deepEqual(decodeSubscription(bytes), info)
  assert.deepEqual(decodeSubscription(encodeSubscription({ ...info, url: null })).url, null)
})

test('a newer version with fields this code does not know is read for the fields it knows', () => {
  const newer = Buffer.concat([
    Buffer.of(3),
    Buffer.from(JSON.stringify({ ...info, standbyTasks: ['0_2'], rack: 'eu-west-1a', taskOffsets: {} })),
  ])
  assert.deepEqual(decodeSubscription(newer), { ...info, taskOffsets: {} })
})

test('fields added after version 1 may be absent: lists and maps default to empty', () => {
  const minimal = Buffer.concat([Buffer.of(1), Buffer.from(JSON.stringify({ workerId: 'w' }))])
  assert.deepEqual(decodeSubscription(minimal), { workerId: 'w', url: null, ownedTasks: [], taskOffsets: {} })
})

test('a garbage subscription is refused with a clear error naming whose it was', () => {
  const framed = (body: string, version = 1): Buffer => Buffer.concat([Buffer.of(version), Buffer.from(body)])
  refused(
    () => decodeSubscription(Buffer.alloc(0), 'subscription of member m-1'),
    /^subscription of member m-1: .*empty/,
  )
  refused(
    () => decodeSubscription(Buffer.from('{"workerId":"w"}')),
    /version 123 is not followed by UTF-8 JSON/,
  )
  refused(() => decodeSubscription(framed('{"workerId":"w"}', 0)), /unknown version 0/)
  refused(() => decodeSubscription(framed('not json')), /not followed by UTF-8 JSON/)
  refused(() => decodeSubscription(Buffer.of(1, 0xff, 0xfe)), /not followed by UTF-8 JSON/)
  refused(() => decodeSubscription(framed('[1,2]')), /not followed by a JSON object/)
  refused(() => decodeSubscription(framed('{}')), /field workerId is not a non-empty string/)
  refused(() => decodeSubscription(framed('{"workerId":"w","url":5}')), /field url is not a string or null/)
  refused(
    () => decodeSubscription(framed('{"workerId":"w","ownedTasks":["0-1"]}')),
    /field ownedTasks is not a list of task ids/,
  )
  refused(() => decodeSubscription(framed('{"workerId":"w","taskOffsets":{"0_1":-3}}')), /field taskOffsets/)
  refused(
    () => decodeSubscription(framed('{"workerId":"w","taskOffsets":{"x":3}}')),
    /field taskOffsets is not keyed by task ids \(x\)/,
  )
})

const rides = (partition: number): Array<{ topic: string; partition: number }> => [
  { topic: 'rides', partition },
  { topic: 'rides-by-vendor-repartition', partition },
]

const assignment = encodeAssignment({
  tasks: new Map([
    ['0_1', [{ topic: 'rides', partition: 1 }]],
    ['1_1', [{ topic: 'rides-by-vendor-repartition', partition: 1 }]],
  ]),
  hosts: new Map([
    ['http://a:6066', [...rides(0), ...rides(2)]],
    ['http://b:6066', rides(1)],
  ]),
  workers: ['w-a', 'w-b'],
})

test('assignment user data gives the tasks with their partitions, the host map and the workers', () => {
  const decoded = decodeAssignment(assignment)
  assert.deepEqual([...decoded.tasks.keys()], ['0_1', '1_1'])
  assert.deepEqual(decoded.tasks.get('1_1'), [{ topic: 'rides-by-vendor-repartition', partition: 1 }])
  assert.deepEqual(decoded.active, ['0_1', '1_1'])
  assert.deepEqual(decoded.pending, [])
  assert.deepEqual(decoded.hosts.get('http://b:6066'), rides(1))
  assert.equal(decoded.hostOf('rides-by-vendor-repartition', 2), 'http://a:6066')
  assert.equal(decoded.hostOf('rides', 1), 'http://b:6066')
  assert.equal(decoded.hostOf('rides', 9), undefined)
  assert.deepEqual(decoded.workers, ['w-a', 'w-b'])
})

test('a planned task whose partitions the transport withheld this generation is pending, not active', () => {
  const decoded = decodeAssignment(assignment, [{ topic: 'rides', partition: 1 }])
  assert.deepEqual(decoded.active, ['0_1'])
  assert.deepEqual(decoded.pending, ['1_1'])
})

test('no assignment user data is an empty assignment; garbage is refused', () => {
  const empty = decodeAssignment(null)
  assert.equal(empty.tasks.size, 0)
  assert.equal(empty.hosts.size, 0)
  assert.deepEqual(empty.workers, [])
  refused(
    () => decodeAssignment(Buffer.from('garbage')),
    /^assignment user data: .*version 103 is not followed/,
  )
  refused(
    () => decodeAssignment(Buffer.concat([Buffer.of(1), Buffer.from('{"tasks":{"0_1":"rides"}}')])),
    /field tasks is not a map to topic lists/,
  )
  refused(
    () => decodeAssignment(Buffer.concat([Buffer.of(1), Buffer.from('{"hosts":{"u":{"t":[-1]}}}')])),
    /field hosts/,
  )
})

test('a topic named __proto__ survives the host map encoding', () => {
  const bytes = encodeAssignment({
    tasks: new Map([['0_0', [{ topic: '__proto__', partition: 0 }]]]),
    hosts: new Map([['http://a', [{ topic: '__proto__', partition: 0 }]]]),
    workers: [],
  })
  assert.equal(decodeAssignment(bytes).hostOf('__proto__', 0), 'http://a')
})
