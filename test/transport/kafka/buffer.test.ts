/** kafka:// fetch buffer: per-partition counts, paused partitions kept and skipped, positions. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RecordBuffer, type Owner } from '../../../src/transport/kafka/buffer.js'
import type { ConsumedRecord } from '../../../src/transport/types.js'

const owner = (): Owner => ({ epoch: 0, buffered: 0, paused: false })
const records = (partition: number, from: number, count: number): ConsumedRecord[] =>
  Array.from({ length: count }, (_, i) => ({
    topic: 't',
    partition,
    offset: from + i,
    timestamp: 0,
    key: null,
    value: null,
    headers: [],
  }))
const at = (list: ConsumedRecord[]): string[] => list.map((r) => `${r.partition}@${r.offset}`)

test('a paused partition keeps its records in order while the others are taken, and gets them back on resume', () => {
  const buffer = new RecordBuffer()
  const [p0, p1] = [owner(), owner()]
  buffer.push(p0, records(0, 0, 2))
  buffer.push(p1, records(1, 10, 2))
  buffer.push(p0, records(0, 2, 2))
  assert.deepEqual([p0.buffered, p1.buffered, buffer.size], [4, 2, 6])
  p0.paused = true
  assert.deepEqual(at(buffer.take(10)), ['1@10', '1@11'])
  assert.deepEqual(at(buffer.take(10)), [])
  assert.equal(buffer.firstOffset(p0), 0)
  p0.paused = false
  assert.deepEqual(at(buffer.take(3)), ['0@0', '0@1', '0@2'])
  assert.equal(buffer.firstOffset(p0), 3)
  assert.deepEqual([p0.buffered, p1.buffered, buffer.size], [1, 0, 1])
})

test('a seek (epoch moved on) drops what was buffered for the partition and its count', () => {
  const buffer = new RecordBuffer()
  const [p0, p1] = [owner(), owner()]
  buffer.push(p0, records(0, 0, 3))
  buffer.push(p1, records(1, 0, 1))
  buffer.take(1)
  p0.epoch++
  buffer.purge()
  assert.deepEqual([p0.buffered, p1.buffered, buffer.size], [0, 1, 1])
  assert.equal(buffer.firstOffset(p0), undefined)
  assert.deepEqual(at(buffer.take(5)), ['1@0'])
})
