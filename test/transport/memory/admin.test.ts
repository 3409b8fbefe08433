import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { TributaryError } from '../../../src/errors.js'
import type { Admin, Producer } from '../../../src/transport/types.js'
import { fixture, pollUntil, sleep, text, type Fixture } from './helpers.js'

const fails =
  (code: string, pattern?: RegExp) =>
  (error: unknown): boolean => {
    assert.ok(error instanceof TributaryError, `expected a TributaryError, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    if (pattern) assert.match(error.message, pattern)
    return true
  }

describe('memory:// admin', () => {
  let f: Fixture
  let admin: Admin
  let producer: Producer

  beforeEach(() => {
    f = fixture()
    admin = f.transport.admin()
    producer = f.transport.producer()
  })
  afterEach(() => f.close())

  test('created topics are listed sorted and described on the single node', async () => {
    await admin.createTopics([{ topic: 'b', partitions: 2 }, { topic: 'a' }])
    assert.deepEqual(await admin.listTopics(), ['a', 'b'])
    assert.deepEqual(await admin.describeTopics(['b']), [
      {
        topic: 'b',
        partitions: [
          { partition: 0, leader: 0, replicas: [0], isr: [0] },
          { partition: 1, leader: 0, replicas: [0], isr: [0] },
        ],
      },
    ])
  })

  test('creating an existing topic fails with TOPIC_EXISTS', async () => {
    await admin.createTopics([{ topic: 'a' }])
    await assert.rejects(admin.createTopics([{ topic: 'a' }]), fails('TOPIC_EXISTS', /a already exists/))
  })

  test('a topic needs at least one partition', async () => {
    await assert.rejects(
      admin.createTopics([{ topic: 'a', partitions: 0 }]),
      fails('INVALID_PARTITIONS', /\ba\b/),
    )
  })

  test('a replication factor above one is refused on the single node', async () => {
    await assert.rejects(
      admin.createTopics([{ topic: 'a', replicationFactor: 3 }]),
      fails('INVALID_ARGUMENT', /replication factor 3/),
    )
  })

  test('illegal and colliding topic names are refused', async () => {
    await assert.rejects(admin.createTopics([{ topic: 'has space' }]), fails('INVALID_ARGUMENT'))
    await admin.createTopics([{ topic: 'a.b' }])
    await assert.rejects(admin.createTopics([{ topic: 'a_b' }]), fails('INVALID_ARGUMENT', /collides/))
  })

  test('each topic of a batch succeeds or fails on its own', async () => {
    await admin.createTopics([{ topic: 'old' }])
    await assert.rejects(admin.createTopics([{ topic: 'old' }, { topic: 'new' }]), fails('TOPIC_EXISTS'))
    assert.deepEqual(await admin.listTopics(), ['new', 'old'])
  })

  test('unknown config names and bad values fail with INVALID_CONFIG', async () => {
    const bad: Array<[string, string, RegExp]> = [
      ['retention.mss', '1', /Unknown topic config name: retention.mss/],
      ['retention.ms', '-2', /at least -1/],
      ['retention.ms', 'soon', /LONG/],
      ['cleanup.policy', 'forever', /cleanup.policy/],
      ['message.timestamp.type', 'EventTime', /CreateTime, LogAppendTime/],
      ['segment.bytes', '1000', /at least 1048576/],
      ['min.cleanable.dirty.ratio', '1.5', /no more than 1/],
      ['preallocate', 'yes', /true or false/],
    ]
    for (const [name, value, pattern] of bad) {
      await assert.rejects(
        admin.createTopics([{ topic: 't', configs: { [name]: value } }]),
        fails('INVALID_CONFIG', pattern),
      )
    }
    assert.deepEqual(await admin.listTopics(), [])
  })

  test('valid Kafka configs are accepted, including both cleanup policies', async () => {
    await admin.createTopics([
      {
        topic: 't',
        configs: {
          'cleanup.policy': 'delete,compact',
          'retention.ms': '-1',
          'compression.type': 'zstd',
          'min.insync.replicas': '1',
          'max.message.bytes': '2000000',
          'delete.retention.ms': '0',
          'min.compaction.lag.ms': '10',
          'segment.ms': '1',
        },
      },
    ])
    const entries = await admin.describeConfigs('t')
    assert.equal(entries.find((e) => e.name === 'cleanup.policy')?.value, 'delete,compact')
  })

  test('describeConfigs lists every config with its default, set ones not marked default', async () => {
    await admin.createTopics([{ topic: 't', configs: { 'retention.ms': '1000' } }])
    const entries = await admin.describeConfigs('t')
    assert.ok(entries.length >= 30, `${entries.length} configs`)
    assert.deepEqual(
      entries.find((e) => e.name === 'retention.ms'),
      {
        name: 'retention.ms',
        value: '1000',
        isDefault: false,
        source: 'topic',
        readOnly: false,
        sensitive: false,
      },
    )
    assert.deepEqual(
      entries.find((e) => e.name === 'cleanup.policy'),
      {
        name: 'cleanup.policy',
        value: 'delete',
        isDefault: true,
        source: 'default',
        readOnly: false,
        sensitive: false,
      },
    )
    assert.equal(entries.find((e) => e.name === 'segment.bytes')?.value, '1073741824')
  })

  test('alterConfigs sets and removes configs incrementally and validates them', async () => {
    await admin.createTopics([{ topic: 't', configs: { 'retention.ms': '1000', 'segment.ms': '5000' } }])
    await admin.alterConfigs('t', { set: { 'cleanup.policy': 'compact' }, remove: ['retention.ms'] })
    const byName = new Map((await admin.describeConfigs('t')).map((e) => [e.name, e]))
    assert.equal(byName.get('cleanup.policy')?.value, 'compact')
    assert.equal(byName.get('retention.ms')?.isDefault, true)
    assert.equal(byName.get('segment.ms')?.value, '5000')
    await assert.rejects(
      admin.alterConfigs('t', { set: { 'retention.ms': 'abc' } }),
      fails('INVALID_CONFIG', /retention.ms/),
    )
    await assert.rejects(admin.alterConfigs('nope', { set: {} }), fails('UNKNOWN_TOPIC', /nope/))
  })

  test('createPartitions only grows a topic', async () => {
    await admin.createTopics([{ topic: 't', partitions: 2 }])
    await assert.rejects(admin.createPartitions('t', 2), fails('INVALID_PARTITIONS', /already has 2/))
    await assert.rejects(
      admin.createPartitions('t', 1),
      fails('INVALID_PARTITIONS', /would not be an increase/),
    )
    await admin.createPartitions('t', 5)
    assert.equal((await admin.describeTopics(['t']))[0]!.partitions.length, 5)
    const [meta] = await producer.send([{ topic: 't', partition: 4, value: text('x') }])
    assert.equal(meta!.offset, 0)
  })

  test('unknown topics fail with UNKNOWN_TOPIC everywhere', async () => {
    await assert.rejects(admin.describeTopics(['ghost']), fails('UNKNOWN_TOPIC', /ghost/))
    await assert.rejects(admin.describeConfigs('ghost'), fails('UNKNOWN_TOPIC', /ghost/))
    await assert.rejects(admin.deleteTopics(['ghost']), fails('UNKNOWN_TOPIC', /ghost/))
    await assert.rejects(admin.listOffsets('ghost', 'latest'), fails('UNKNOWN_TOPIC', /ghost/))
    await assert.rejects(admin.createPartitions('ghost', 3), fails('UNKNOWN_TOPIC', /ghost/))
  })

  test('a deleted topic is gone and can be created again empty', async () => {
    await admin.createTopics([{ topic: 't' }])
    await producer.send([{ topic: 't', value: text('x') }])
    await admin.deleteTopics(['t'])
    assert.deepEqual(await admin.listTopics(), [])
    await assert.rejects(producer.send([{ topic: 't', value: text('x') }]), fails('UNKNOWN_TOPIC'))
    await admin.createTopics([{ topic: 't' }])
    assert.deepEqual(await admin.listOffsets('t', 'latest'), [{ topic: 't', partition: 0, offset: 0 }])
  })

  test('listOffsets gives earliest, latest and the first offset at or after a timestamp', async () => {
    await admin.createTopics([{ topic: 't', partitions: 2 }])
    const now = Date.now()
    await producer.send([
      { topic: 't', partition: 0, value: text('a'), timestamp: now - 3000 },
      { topic: 't', partition: 0, value: text('b'), timestamp: now - 1000 },
      { topic: 't', partition: 0, value: text('c'), timestamp: now - 2000 },
      { topic: 't', partition: 0, value: text('d'), timestamp: now },
    ])
    assert.deepEqual(await admin.listOffsets('t', 'earliest'), [
      { topic: 't', partition: 0, offset: 0 },
      { topic: 't', partition: 1, offset: 0 },
    ])
    assert.deepEqual(await admin.listOffsets('t', 'latest'), [
      { topic: 't', partition: 0, offset: 4 },
      { topic: 't', partition: 1, offset: 0 },
    ])
    const at = async (timestamp: number) => (await admin.listOffsets('t', { timestamp }))[0]!.offset
    assert.equal(await at(now - 5000), 0)
    assert.equal(await at(now - 2500), 1)
    assert.equal(await at(now - 1500), 1)
    assert.equal(await at(now - 500), 3)
    assert.equal(await at(now + 1), 4)
  })

  test('under read_committed, listOffsets stops at the last stable offset, timestamps included', async () => {
    await admin.createTopics([{ topic: 't', partitions: 1 }])
    const now = Date.now()
    await producer.send([{ topic: 't', value: text('a'), timestamp: now - 2000 }])
    const tx = await f.transport.producer({ transactionalId: 'tx' }).beginTransaction()
    await tx.send([{ topic: 't', value: text('open'), timestamp: now - 1000 }])
    const committed = { isolationLevel: 'read_committed' } as const
    assert.deepEqual(await admin.listOffsets('t', 'latest', committed), [
      { topic: 't', partition: 0, offset: 1 },
    ])
    assert.equal((await admin.listOffsets('t', { timestamp: now - 1500 }))[0]!.offset, 1)
    assert.equal((await admin.listOffsets('t', { timestamp: now - 1500 }, committed))[0]!.offset, 1)
    assert.equal((await admin.listOffsets('t', { timestamp: now - 3000 }, committed))[0]!.offset, 0)
    await assert.rejects(
      admin.listOffsets('t', 'latest', { isolationLevel: 'dirty' as never }),
      fails('INVALID_ARGUMENT', /isolationLevel dirty/),
    )
  })

  test('groups are listed and described with their members and assignments', async () => {
    await admin.createTopics([{ topic: 't', partitions: 2 }])
    const consumer = f.transport.consumer({ groupId: 'g', clientId: 'reader' })
    await consumer.subscribe(['t'])
    assert.equal((await admin.describeGroup('g')).state, 'PreparingRebalance')
    await consumer.poll({ timeoutMs: 0 })
    const description = await admin.describeGroup('g')
    assert.equal(description.state, 'Stable')
    assert.equal(description.members.length, 1)
    assert.equal(description.members[0]!.clientId, 'reader')
    assert.deepEqual(description.members[0]!.assignment, [
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
    ])
    assert.deepEqual(await admin.listGroups(), [{ groupId: 'g', state: 'Stable' }])
    await consumer.commit([{ topic: 't', partition: 1, offset: 0 }])
    await assert.rejects(admin.deleteGroup('g'), fails('GROUP_NOT_EMPTY', /live member/))
    await consumer.close()
    assert.deepEqual(await admin.describeGroup('g'), {
      groupId: 'g',
      state: 'Empty',
      assignor: '',
      members: [],
    })
    assert.deepEqual(await admin.listGroupOffsets('g'), [{ topic: 't', partition: 1, offset: 0 }])
    await admin.deleteGroup('g')
    assert.deepEqual(await admin.listGroups(), [])
    assert.deepEqual(await admin.listGroupOffsets('g'), [])
  })

  test('an unknown group can be neither described nor deleted', async () => {
    await assert.rejects(admin.describeGroup('nobody'), fails('UNKNOWN_GROUP', /nobody/))
    await assert.rejects(admin.deleteGroup('nobody'), fails('UNKNOWN_GROUP', /nobody/))
  })

  test('a deleted topic takes its committed offsets with it', async () => {
    await admin.createTopics([{ topic: 't' }, { topic: 'u' }])
    const consumer = f.transport.consumer({ groupId: 'g' })
    await consumer.assign([
      { topic: 't', partition: 0 },
      { topic: 'u', partition: 0 },
    ])
    await consumer.commit([
      { topic: 't', partition: 0, offset: 0 },
      { topic: 'u', partition: 0, offset: 0 },
    ])
    await admin.deleteTopics(['t'])
    assert.deepEqual(await admin.listGroupOffsets('g'), [{ topic: 'u', partition: 0, offset: 0 }])
  })

  test('a closed admin fails with CLOSED', async () => {
    await admin.close()
    await assert.rejects(admin.listTopics(), fails('CLOSED'))
  })

  test('a reset broker starts empty and its old clients fail with CLOSED', async () => {
    await admin.createTopics([{ topic: 't' }])
    const { resetMemoryBroker, createMemoryTransport } =
      await import('../../../src/transport/memory/transport.js')
    resetMemoryBroker(f.name)
    await assert.rejects(admin.listTopics(), fails('CLOSED', /reset/))
    const fresh = createMemoryTransport(f.name)
    assert.deepEqual(await fresh.admin().listTopics(), [])
    await fresh.close()
  })

  test('a consumer in assign mode reads a topic grown after it started', async () => {
    await admin.createTopics([{ topic: 't' }])
    await admin.createPartitions('t', 2)
    const consumer = f.transport.consumer()
    await consumer.assign([{ topic: 't', partition: 1, from: 'earliest' }])
    await producer.send([{ topic: 't', partition: 1, value: text('new') }])
    assert.equal((await pollUntil(consumer, 1))[0]!.partition, 1)
    await sleep(0)
  })
})
