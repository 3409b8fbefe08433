import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { TributaryError } from '../../../src/errors.js'
import type { Admin, Producer, StartOffset } from '../../../src/transport/types.js'
import { fixture, pollUntil, sleep, text, values, type Fixture } from './helpers.js'

const code = (c: string) => (error: unknown) => error instanceof TributaryError && error.code === c

describe('memory:// consumer', () => {
  let f: Fixture
  let admin: Admin
  let producer: Producer

  beforeEach(async () => {
    f = fixture()
    admin = f.transport.admin()
    producer = f.transport.producer()
    await admin.createTopics([{ topic: 't', partitions: 2 }])
  })
  afterEach(() => f.close())

  const fill = (partition: number, ...items: string[]) =>
    producer.send(items.map((v) => ({ topic: 't', partition, value: text(v) })))

  test('poll resolves as soon as a record is appended', async () => {
    const consumer = f.transport.consumer()
    await consumer.assign([{ topic: 't', partition: 0 }])
    const started = Date.now()
    setTimeout(() => void fill(0, 'hello'), 30)
    const records = await consumer.poll({ timeoutMs: 5000 })
    assert.deepEqual(values(records), ['hello'])
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`)
  })

  test('poll resolves empty after its timeout when nothing arrives', async () => {
    const consumer = f.transport.consumer()
    await consumer.assign([{ topic: 't', partition: 0 }])
    const started = Date.now()
    assert.deepEqual(await consumer.poll({ timeoutMs: 50 }), [])
    assert.ok(Date.now() - started >= 45)
  })

  test('records come in offset order and maxRecords is honoured', async () => {
    await fill(0, 'a', 'b', 'c', 'd', 'e')
    const consumer = f.transport.consumer()
    await consumer.assign([{ topic: 't', partition: 0, from: 'earliest' }])
    const first = await consumer.poll({ maxRecords: 3 })
    const second = await consumer.poll({ maxRecords: 3 })
    assert.deepEqual(values(first), ['a', 'b', 'c'])
    assert.deepEqual(
      second.map((r) => r.offset),
      [3, 4],
    )
  })

  test('a deep backlog on one partition does not starve another', async () => {
    await fill(0, ...Array.from({ length: 1000 }, (_, i) => `p0-${i}`))
    await fill(1, 'p1-0')
    const consumer = f.transport.consumer()
    await consumer.assign([
      { topic: 't', partition: 0, from: 'earliest' },
      { topic: 't', partition: 1, from: 'earliest' },
    ])
    const records = await consumer.poll({ maxRecords: 100 })
    assert.equal(records.length, 100)
    assert.ok(values(records).includes('p1-0'))
  })

  test('assign starts from earliest, latest, an offset or a timestamp', async () => {
    const now = Date.now()
    await producer.send(
      ['a', 'b', 'c'].map((v, i) => ({ topic: 't', partition: 0, value: text(v), timestamp: now + i * 10 })),
    )
    const from = async (start: StartOffset | undefined) => {
      const c = f.transport.consumer()
      await c.assign([{ topic: 't', partition: 0, from: start }])
      return values(await c.poll({ timeoutMs: 20 }))
    }
    assert.deepEqual(await from('earliest'), ['a', 'b', 'c'])
    assert.deepEqual(await from('latest'), [])
    assert.deepEqual(await from(1), ['b', 'c'])
    assert.deepEqual(await from({ timestamp: now + 15 }), ['c'])
    assert.deepEqual(await from(undefined), [])
  })

  test('seek moves the read position of an assigned partition only', async () => {
    await fill(0, 'a', 'b', 'c')
    const consumer = f.transport.consumer()
    await consumer.assign([{ topic: 't', partition: 0, from: 'latest' }])
    consumer.seek({ topic: 't', partition: 0, offset: 1 })
    assert.deepEqual(values(await consumer.poll()), ['b', 'c'])
    assert.throws(() => consumer.seek({ topic: 't', partition: 1, offset: 0 }), code('INVALID_ARGUMENT'))
    assert.deepEqual(consumer.assignment(), [{ topic: 't', partition: 0 }])
  })

  test('a position past the log end is reset by offsetReset', async () => {
    await fill(0, 'a', 'b')
    const early = f.transport.consumer({ offsetReset: 'earliest' })
    await early.assign([{ topic: 't', partition: 0, from: 99 }])
    assert.deepEqual(values(await early.poll()), ['a', 'b'])
    const strict = f.transport.consumer({ offsetReset: 'none' })
    await strict.assign([{ topic: 't', partition: 0, from: 99 }])
    await assert.rejects(
      strict.poll({ timeoutMs: 10 }),
      (e: unknown) => code('KAFKA')(e) && /t\[0\]/.test(String(e)),
    )
  })

  test('a new group starts at earliest or latest as offsetReset says', async () => {
    await fill(0, 'old')
    const early = f.transport.consumer({ groupId: 'g1', offsetReset: 'earliest' })
    await early.subscribe(['t'])
    assert.deepEqual(values(await pollUntil(early, 1)), ['old'])
    const late = f.transport.consumer({ groupId: 'g2', offsetReset: 'latest' })
    await late.subscribe(['t'])
    assert.deepEqual(await late.poll({ timeoutMs: 20 }), [])
    await fill(0, 'new')
    assert.deepEqual(values(await pollUntil(late, 1)), ['new'])
    const none = f.transport.consumer({ groupId: 'g3', offsetReset: 'none' })
    await none.subscribe(['t'])
    await assert.rejects(none.poll({ timeoutMs: 10 }), code('KAFKA'))
  })

  test('committed offsets survive a consumer restart on a new transport', async () => {
    await fill(0, 'a', 'b', 'c')
    const first = f.transport.consumer({ groupId: 'g', offsetReset: 'earliest' })
    await first.subscribe(['t'])
    const [a] = await first.poll({ maxRecords: 1 })
    await first.commit([{ topic: 't', partition: 0, offset: a!.offset + 1 }])
    await first.close()
    const second = f.reopen().consumer({ groupId: 'g', offsetReset: 'earliest' })
    await second.subscribe(['t'])
    assert.deepEqual(values(await pollUntil(second, 2)), ['b', 'c'])
    assert.deepEqual(
      await second.committed([
        { topic: 't', partition: 0 },
        { topic: 't', partition: 1 },
      ]),
      [{ topic: 't', partition: 0, offset: 1 }],
    )
  })

  test('assign from committed reads from the group offset', async () => {
    await fill(1, 'a', 'b', 'c')
    const writer = f.transport.consumer({ groupId: 'g' })
    await writer.assign([{ topic: 't', partition: 1 }])
    await writer.commit([{ topic: 't', partition: 1, offset: 2 }])
    const reader = f.transport.consumer({ groupId: 'g' })
    await reader.assign([{ topic: 't', partition: 1, from: 'committed' }])
    assert.deepEqual(values(await reader.poll()), ['c'])
  })

  test('commit needs a group and an assigned partition', async () => {
    const loner = f.transport.consumer()
    await loner.assign([{ topic: 't', partition: 0 }])
    await assert.rejects(loner.commit([{ topic: 't', partition: 0, offset: 1 }]), code('INVALID_ARGUMENT'))
    const member = f.transport.consumer({ groupId: 'g' })
    await member.assign([{ topic: 't', partition: 0 }])
    await assert.rejects(member.commit([{ topic: 't', partition: 1, offset: 1 }]), code('REBALANCE'))
    await assert.rejects(member.commit([{ topic: 't', partition: 0, offset: -1 }]), code('INVALID_ARGUMENT'))
  })

  test('subscribe and assign check their arguments', async () => {
    const consumer = f.transport.consumer({ groupId: 'g' })
    await assert.rejects(
      consumer.subscribe(['ghost']),
      (e: unknown) => code('UNKNOWN_TOPIC')(e) && /ghost/.test(String(e)),
    )
    await assert.rejects(f.transport.consumer().subscribe(['t']), code('INVALID_ARGUMENT'))
    await assert.rejects(consumer.assign([{ topic: 't', partition: 7 }]), code('INVALID_PARTITIONS'))
    await consumer.assign([{ topic: 't', partition: 0 }])
    await assert.rejects(consumer.subscribe(['t']), code('INVALID_ARGUMENT'))
  })

  test('a second poll while one is running is refused', async () => {
    const consumer = f.transport.consumer()
    await consumer.assign([{ topic: 't', partition: 0 }])
    const running = consumer.poll({ timeoutMs: 50 })
    await assert.rejects(consumer.poll(), code('INVALID_ARGUMENT'))
    await running
  })

  test('close ends a waiting poll at once and later calls fail with CLOSED', async () => {
    const consumer = f.transport.consumer()
    await consumer.assign([{ topic: 't', partition: 0 }])
    const started = Date.now()
    const running = consumer.poll({ timeoutMs: 5000 })
    await sleep(10)
    await consumer.close()
    assert.deepEqual(await running, [])
    assert.ok(Date.now() - started < 1000)
    await assert.rejects(consumer.poll(), code('CLOSED'))
    await consumer.close()
  })

  test('a process with group members and transactions exits once its clients are closed', () => {
    const transport = fileURLToPath(new URL('../../../src/transport/memory/transport.ts', import.meta.url))
    const script = `
      import { createMemoryTransport } from ${JSON.stringify(transport)}
      const t = createMemoryTransport('exit-check')
      await t.admin().createTopics([{ topic: 'x', partitions: 2 }])
      const c = t.consumer({ groupId: 'g', sessionTimeoutMs: 60000 })
      await c.subscribe(['x'])
      const p = t.producer({ transactionalId: 'tx' })
      const tx = await p.beginTransaction()
      await tx.send([{ topic: 'x', value: Buffer.from('v') }])
      await c.poll({ timeoutMs: 10 })
      const idle = t.consumer({ groupId: 'g2', sessionTimeoutMs: 60000 })
      await idle.subscribe(['x'])
      await t.close()
      console.log('closed')
    `
    const started = Date.now()
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20000,
    })
    assert.equal(child.status, 0, child.stderr)
    assert.match(child.stdout, /closed/)
    assert.ok(Date.now() - started < 15000)
  })
})
