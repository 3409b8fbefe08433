import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { TributaryError } from '../../../src/errors.js'
import { getMemoryBroker } from '../../../src/transport/memory/transport.js'
import { createMemoryTransport } from '../../../src/transport/memory/transport.js'
import type { Admin, ConsumedRecord, Producer } from '../../../src/transport/types.js'
import { fixture, sleep, text, type Fixture } from './helpers.js'

describe('memory:// retention and compaction', () => {
  let f: Fixture
  let admin: Admin
  let producer: Producer

  beforeEach(() => {
    f = fixture()
    admin = f.transport.admin()
    producer = f.transport.producer()
  })
  afterEach(() => f.close())

  const readAll = async (topic: string): Promise<ConsumedRecord[]> => {
    const consumer = f.transport.consumer()
    await consumer.assign([{ topic, partition: 0, from: 'earliest' }])
    const records = await consumer.poll({ timeoutMs: 10 })
    await consumer.close()
    return records
  }
  const kv = (records: ConsumedRecord[]) =>
    records.map((r) => `${r.key?.toString()}=${r.value?.toString() ?? 'null'}@${r.offset}`)

  test('records past retention.ms leave the log start and offsets stay as they were', async () => {
    getMemoryBroker(f.name).settings.retentionCheckIntervalMs = 0
    await admin.createTopics([{ topic: 't', configs: { 'retention.ms': '60000' } }])
    const now = Date.now()
    await producer.send([
      { topic: 't', value: text('old-1'), timestamp: now - 120_000 },
      { topic: 't', value: text('old-2'), timestamp: now - 90_000 },
      { topic: 't', value: text('fresh'), timestamp: now },
      { topic: 't', value: text('old-but-behind-fresh'), timestamp: now - 120_000 },
    ])
    assert.deepEqual(await admin.listOffsets('t', 'earliest'), [{ topic: 't', partition: 0, offset: 2 }])
    assert.deepEqual(await admin.listOffsets('t', 'latest'), [{ topic: 't', partition: 0, offset: 4 }])
    assert.deepEqual(
      (await readAll('t')).map((r) => r.offset),
      [2, 3],
    )
  })

  test('retention waits for the broker retention check interval, as Kafka does', async () => {
    await admin.createTopics([{ topic: 't', configs: { 'retention.ms': '1000' } }])
    await producer.send([{ topic: 't', value: text('ancient'), timestamp: 1000 }])
    assert.equal((await readAll('t')).length, 1, 'still readable right after its append')
    getMemoryBroker(f.name).settings.retentionCheckIntervalMs = 0
    assert.equal((await readAll('t')).length, 0)
  })

  test('the retention check interval can be set in the memory:// URL', async () => {
    const transport = createMemoryTransport(`${f.name}?log.retention.check.interval.ms=0`)
    assert.equal(getMemoryBroker(f.name).settings.retentionCheckIntervalMs, 0)
    assert.throws(
      () => createMemoryTransport(`${f.name}?log.flush=1`),
      (e: unknown) => e instanceof TributaryError,
    )
    await transport.close()
  })

  test('retention.bytes keeps the newest records within the limit', async () => {
    getMemoryBroker(f.name).settings.retentionCheckIntervalMs = 0
    await admin.createTopics([{ topic: 't', configs: { 'retention.bytes': '300' } }])
    await producer.send(Array.from({ length: 10 }, (_, i) => ({ topic: 't', value: Buffer.alloc(100, i) })))
    const left = await readAll('t')
    assert.ok(left.length > 0 && left.length < 10, `${left.length} records left`)
    assert.equal(left.at(-1)!.offset, 9)
  })

  test('a consumer behind the log start is reset to the new start', async () => {
    getMemoryBroker(f.name).settings.retentionCheckIntervalMs = 0
    await admin.createTopics([{ topic: 't', configs: { 'retention.ms': '60000' } }])
    const consumer = f.transport.consumer({ offsetReset: 'earliest' })
    await consumer.assign([{ topic: 't', partition: 0, from: 'earliest' }])
    await producer.send([
      { topic: 't', value: text('expired'), timestamp: Date.now() - 120_000 },
      { topic: 't', value: text('live') },
    ])
    const records = await consumer.poll()
    assert.deepEqual(
      records.map((r) => r.offset),
      [1],
    )
  })

  test('compaction keeps the latest record per key once it left the active segment', async () => {
    await admin.createTopics([{ topic: 'c', configs: { 'cleanup.policy': 'compact', 'segment.ms': '1' } }])
    const put = (k: string, v: string | null) => ({
      topic: 'c',
      key: text(k),
      value: v === null ? null : text(v),
    })
    await producer.send([put('a', '1'), put('b', '1'), put('a', '2'), put('c', '1'), put('b', '2')])
    await sleep(5)
    await producer.send([put('d', '1')])
    assert.deepEqual(kv(await readAll('c')), ['a=2@2', 'c=1@3', 'b=2@4', 'd=1@5'])
    assert.deepEqual(await admin.listOffsets('c', 'latest'), [{ topic: 'c', partition: 0, offset: 6 }])
  })

  test('compaction leaves the active segment alone with the default segment.ms', async () => {
    await admin.createTopics([{ topic: 'c', configs: { 'cleanup.policy': 'compact' } }])
    await producer.send(['1', '2', '3'].map((v) => ({ topic: 'c', key: text('k'), value: text(v) })))
    await sleep(5)
    assert.equal((await readAll('c')).length, 3)
  })

  test('tombstones are dropped after delete.retention.ms and kept before', async () => {
    const configs = { 'cleanup.policy': 'compact', 'segment.ms': '1' }
    await admin.createTopics([
      { topic: 'short', configs: { ...configs, 'delete.retention.ms': '0' } },
      { topic: 'long', configs },
    ])
    for (const topic of ['short', 'long']) {
      await producer.send([
        { topic, key: text('gone'), value: text('1') },
        { topic, key: text('gone'), value: null },
      ])
    }
    await sleep(5)
    for (const topic of ['short', 'long'])
      await producer.send([{ topic, key: text('other'), value: text('x') }])
    assert.deepEqual(kv(await readAll('short')), ['other=x@2'])
    assert.deepEqual(kv(await readAll('long')), ['gone=null@1', 'other=x@2'])
  })

  test('a compacted topic refuses records without a key', async () => {
    await admin.createTopics([{ topic: 'c', configs: { 'cleanup.policy': 'compact' } }])
    await assert.rejects(
      producer.send([{ topic: 'c', value: text('v') }]),
      (e: unknown) => e instanceof TributaryError && /without a key/.test(e.message),
    )
  })

  test('compaction never removes records of a transaction still open', async () => {
    await admin.createTopics([{ topic: 'c', configs: { 'cleanup.policy': 'compact', 'segment.ms': '1' } }])
    const tx = await f.transport.producer({ transactionalId: 'tx' }).beginTransaction()
    await tx.send([{ topic: 'c', key: text('k'), value: text('1') }])
    await producer.send([{ topic: 'c', key: text('k'), value: text('2') }])
    await sleep(5)
    await producer.send([{ topic: 'c', key: text('z'), value: text('x') }])
    assert.deepEqual(kv(await readAll('c')), ['k=1@0', 'k=2@1', 'z=x@2'])
  })
})
