/** The caching and change-logging layers: the latest value per key goes to the changelog at a flush, once. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CachingStore } from '../../src/state/caching-store.js'
import { ChangeLoggingStore } from '../../src/state/change-logging-store.js'
import { MemoryStore } from '../../src/state/memory-store.js'
import { json, string } from '../../src/serde/codecs.js'
import type { ProducerRecord, RecordMetadata } from '../../src/transport/types.js'

function stack(maxEntries = 100, admit?: (bytes: Buffer, key: unknown) => void) {
  const sent: ProducerRecord[] = []
  let offset = 0
  let fail: Error | undefined
  const acks: Array<() => void> = []
  const logging = new ChangeLoggingStore(new MemoryStore(), 'app-t-changelog', 2, (records, done) => {
    sent.push(...records)
    const meta: RecordMetadata[] = records.map((r) => ({ topic: r.topic, partition: 2, offset: offset++ }))
    acks.push(() => done(fail, fail ? undefined : meta))
  })
  const cache = new CachingStore<string | null, number>(logging, {
    table: 't',
    key: string,
    value: json<number>(),
    maxEntries,
    ...(admit ? { admit } : {}),
  })
  const ack = (): void => {
    for (const a of acks.splice(0)) a()
  }
  return { sent, logging, cache, ack, failWith: (e: Error) => (fail = e) }
}

test('many updates of one key between two flushes are one changelog record with the latest value', async () => {
  const { cache, sent, logging, ack } = stack()
  for (let i = 1; i <= 1000; i++) cache.set('k', i)
  assert.equal(sent.length, 0, 'nothing is sent before the flush')
  cache.flush()
  const flushed = logging.flush()
  ack()
  await flushed
  assert.equal(sent.length, 1)
  assert.deepEqual(sent[0], {
    topic: 'app-t-changelog',
    partition: 2,
    key: Buffer.from('k'),
    value: Buffer.from('1000'),
  })
  assert.equal(logging.position, 1, 'the position is the changelog offset after the last acknowledged write')
  cache.flush()
  assert.equal(sent.length, 1, 'a flush with nothing written sends nothing')
})

test('a deleted key is a tombstone in the changelog and reads as missing', async () => {
  const { cache, sent, ack, logging } = stack()
  cache.set('gone', 1)
  cache.flush()
  cache.delete('gone')
  assert.equal(cache.has('gone'), false)
  cache.flush()
  ack()
  await logging.flush()
  assert.deepEqual(
    sent.map((r) => r.value),
    [Buffer.from('1'), null],
  )
  assert.equal(cache.get('gone'), undefined)
})

test('evicted keys that were written go to the changelog before the flush, never lost', async () => {
  const { cache, sent, ack, logging } = stack(10)
  for (let i = 0; i < 25; i++) cache.set(`k${i}`, i)
  assert.ok(sent.length > 0, 'evictions wrote the oldest keys down')
  cache.flush()
  ack()
  await logging.flush()
  assert.equal(new Set(sent.map((r) => r.key!.toString())).size, 25)
  for (let i = 0; i < 25; i++) assert.equal(cache.get(`k${i}`), i, `k${i} reads back after eviction`)
  assert.equal(cache.size(), 25)
})

test('entries and size merge the cache with the store below it', () => {
  const { cache } = stack()
  cache.set('a', 1)
  cache.flush()
  cache.reset()
  cache.set('b', 2)
  cache.delete('a')
  cache.set('c', 3)
  assert.deepEqual(
    new Map(cache.entries()),
    new Map([
      ['b', 2],
      ['c', 3],
    ]),
  )
  assert.equal(cache.size(), 2)
})

test('reset forgets what was written and not flushed (a rewind to the last commit)', () => {
  const { cache } = stack()
  cache.set('a', 1)
  cache.flush()
  cache.set('a', 2)
  cache.reset()
  assert.equal(cache.get('a'), 1)
})

test('a flush whose changelog write was refused rejects, naming the changelog partition', async () => {
  const { cache, ack, logging, failWith } = stack()
  failWith(new Error('NOT_LEADER_OR_FOLLOWER'))
  cache.set('a', 1)
  cache.flush()
  const flushed = logging.flush()
  ack()
  await assert.rejects(
    flushed,
    /changelog app-t-changelog\[2\]: a write was not acknowledged: NOT_LEADER_OR_FOLLOWER/,
  )
})

test('a key enters the cache through admit, which may refuse it; null keys and undefined values are refused', () => {
  const admitted: unknown[] = []
  const { cache } = stack(100, (_bytes, key) => {
    if (key === 'foreign') throw new Error('not this task')
    admitted.push(key)
  })
  cache.set('mine', 1)
  cache.get('mine')
  assert.deepEqual(admitted, ['mine'], 'checked once, when the key first enters the cache')
  assert.throws(() => cache.get('foreign'), /not this task/)
  assert.throws(() => cache.set(null, 1), /table "t": a key cannot be null/)
  assert.throws(() => cache.set('u', undefined as never), /a value cannot be undefined/)
})
