import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { TributaryError } from '../../../src/errors.js'
import type { Admin, Consumer, IsolationLevel } from '../../../src/transport/types.js'
import { fixture, pollUntil, sleep, text, values, type Fixture } from './helpers.js'

const code = (c: string) => (error: unknown) => error instanceof TributaryError && error.code === c

describe('memory:// transactions', () => {
  let f: Fixture
  let admin: Admin

  beforeEach(async () => {
    f = fixture()
    admin = f.transport.admin()
    await admin.createTopics([
      { topic: 'out', partitions: 1 },
      { topic: 'in', partitions: 2 },
    ])
  })
  afterEach(() => f.close())

  const reader = async (isolationLevel: IsolationLevel): Promise<Consumer> => {
    const consumer = f.transport.consumer({ isolationLevel })
    await consumer.assign([{ topic: 'out', partition: 0, from: 'earliest' }])
    return consumer
  }
  const record = (value: string) => ({ topic: 'out', partition: 0, value: text(value) })

  test('read_committed sees transactional records only once the transaction commits', async () => {
    const committed = await reader('read_committed')
    const uncommitted = await reader('read_uncommitted')
    const producer = f.transport.producer({ transactionalId: 'tx' })
    const tx = await producer.beginTransaction()
    await tx.send([record('a'), record('b')])
    assert.deepEqual(values(await uncommitted.poll({ timeoutMs: 10 })), ['a', 'b'])
    assert.deepEqual(await committed.poll({ timeoutMs: 20 }), [])
    await tx.commit()
    assert.deepEqual(values(await pollUntil(committed, 2)), ['a', 'b'])
  })

  test('the commit marker wakes a waiting read_committed poll', async () => {
    const committed = await reader('read_committed')
    const producer = f.transport.producer({ transactionalId: 'tx' })
    const tx = await producer.beginTransaction()
    await tx.send([record('a')])
    setTimeout(() => void tx.commit(), 20)
    const started = Date.now()
    assert.deepEqual(values(await committed.poll({ timeoutMs: 3000 })), ['a'])
    assert.ok(Date.now() - started < 1000)
  })

  test('aborted records never reach read_committed but do reach read_uncommitted', async () => {
    const producer = f.transport.producer({ transactionalId: 'tx' })
    const aborted = await producer.beginTransaction()
    await aborted.send([record('lost-1'), record('lost-2')])
    await aborted.abort()
    const kept = await producer.beginTransaction()
    await kept.send([record('kept')])
    await kept.commit()
    assert.deepEqual(values(await pollUntil(await reader('read_committed'), 1)), ['kept'])
    assert.deepEqual(values(await pollUntil(await reader('read_uncommitted'), 3)), [
      'lost-1',
      'lost-2',
      'kept',
    ])
  })

  test('each commit or abort marker takes one offset that consumers skip', async () => {
    const producer = f.transport.producer({ transactionalId: 'tx' })
    const first = await producer.beginTransaction()
    const meta = await first.send([record('a'), record('b')])
    await first.commit()
    const second = await producer.beginTransaction()
    const [c] = await second.send([record('c')])
    await second.abort()
    assert.deepEqual(
      meta.map((m) => m.offset),
      [0, 1],
    )
    assert.equal(c!.offset, 3, 'offset 2 is the commit marker')
    assert.deepEqual(await admin.listOffsets('out', 'latest'), [{ topic: 'out', partition: 0, offset: 5 }])
    const records = await pollUntil(await reader('read_uncommitted'), 3)
    assert.deepEqual(
      records.map((r) => r.offset),
      [0, 1, 3],
    )
  })

  test('read_committed stops at the first offset of the oldest open transaction', async () => {
    const plain = f.transport.producer()
    const producer = f.transport.producer({ transactionalId: 'tx' })
    await plain.send([record('before')])
    const tx = await producer.beginTransaction()
    await tx.send([record('in-tx')])
    await plain.send([record('after')])
    const committed = await reader('read_committed')
    assert.deepEqual(values(await pollUntil(committed, 1)), ['before'])
    assert.deepEqual(await committed.poll({ timeoutMs: 20 }), [])
    await tx.commit()
    assert.deepEqual(values(await pollUntil(committed, 2)), ['in-tx', 'after'])
  })

  test('read_committed latest starts at the last stable offset', async () => {
    const producer = f.transport.producer({ transactionalId: 'tx' })
    const tx = await producer.beginTransaction()
    await tx.send([record('pending')])
    const committed = f.transport.consumer({ isolationLevel: 'read_committed' })
    await committed.assign([{ topic: 'out', partition: 0, from: 'latest' }])
    await tx.commit()
    assert.deepEqual(values(await pollUntil(committed, 1)), ['pending'])
  })

  test('offsets sent to a transaction are committed only when it commits', async () => {
    await f.transport.producer().send([{ topic: 'in', partition: 0, value: text('x') }])
    const consumer = f.transport.consumer({ groupId: 'app', offsetReset: 'earliest' })
    await consumer.subscribe(['in'])
    await pollUntil(consumer, 1)
    const producer = f.transport.producer({ transactionalId: 'tx' })
    const aborted = await producer.beginTransaction()
    await aborted.send([record('y')])
    await aborted.sendOffsets(consumer, [{ topic: 'in', partition: 0, offset: 1 }])
    await aborted.abort()
    assert.deepEqual(await admin.listGroupOffsets('app'), [])
    const tx = await producer.beginTransaction()
    await tx.sendOffsets(consumer, [{ topic: 'in', partition: 0, offset: 1 }])
    assert.deepEqual(await consumer.committed([{ topic: 'in', partition: 0 }]), [])
    await tx.commit()
    assert.deepEqual(await consumer.committed([{ topic: 'in', partition: 0 }]), [
      { topic: 'in', partition: 0, offset: 1 },
    ])
  })

  test('sendOffsets refuses partitions the consumer does not own', async () => {
    const consumer = f.transport.consumer({ groupId: 'app' })
    await consumer.subscribe(['in'])
    const producer = f.transport.producer({ transactionalId: 'tx' })
    const tx = await producer.beginTransaction()
    await assert.rejects(
      tx.sendOffsets(consumer, [{ topic: 'in', partition: 0, offset: 1 }]),
      code('REBALANCE'),
    )
    const loner = f.transport.consumer()
    await assert.rejects(
      tx.sendOffsets(loner, [{ topic: 'in', partition: 0, offset: 1 }]),
      code('INVALID_ARGUMENT'),
    )
  })

  test('a partition with offsets pending in a transaction moves only after the transaction ends', async () => {
    await f.transport
      .producer()
      .send([0, 1, 2, 3].map((i) => ({ topic: 'in', partition: i % 2, value: text(`${i}`) })))
    const a = f.transport.consumer({ groupId: 'app', offsetReset: 'earliest' })
    await a.subscribe(['in'])
    await pollUntil(a, 4)
    const producer = f.transport.producer({ transactionalId: 'tx' })
    const tx = await producer.beginTransaction()
    await tx.sendOffsets(a, [
      { topic: 'in', partition: 0, offset: 2 },
      { topic: 'in', partition: 1, offset: 2 },
    ])
    const b = f.transport.consumer({ groupId: 'app', offsetReset: 'earliest' })
    await b.subscribe(['in'])
    await a.poll({ timeoutMs: 0 }) // a gives up one partition; its offsets are still pending
    assert.equal(a.assignment().length, 1)
    assert.deepEqual(await b.poll({ timeoutMs: 30 }), [])
    assert.deepEqual(b.assignment(), [])
    await tx.commit()
    assert.deepEqual(
      await b.poll({ timeoutMs: 30 }),
      [],
      'b starts from the committed offset 2: nothing to redo',
    )
    assert.equal(b.assignment().length, 1)
  })

  test('a second producer with the same transactional id fences the first and aborts its transaction', async () => {
    const old = f.transport.producer({ transactionalId: 'tx' })
    const zombie = await old.beginTransaction()
    await zombie.send([record('zombie')])
    const fresh = f.transport.producer({ transactionalId: 'tx' })
    const tx = await fresh.beginTransaction()
    await assert.rejects(zombie.send([record('more')]), code('FENCED'))
    await assert.rejects(zombie.commit(), code('FENCED'))
    await assert.rejects(old.beginTransaction(), code('FENCED'))
    await tx.send([record('fresh')])
    await tx.commit()
    assert.deepEqual(values(await pollUntil(await reader('read_committed'), 1)), ['fresh'])
  })

  test('transactions are used in the right state only', async () => {
    const plain = f.transport.producer()
    await assert.rejects(plain.beginTransaction(), code('TRANSACTION'))
    const producer = f.transport.producer({ transactionalId: 'tx' })
    await assert.rejects(producer.send([record('outside')]), code('TRANSACTION'))
    const tx = await producer.beginTransaction()
    await assert.rejects(producer.beginTransaction(), code('TRANSACTION'))
    await tx.commit()
    await assert.rejects(tx.send([record('late')]), code('TRANSACTION'))
    await assert.rejects(tx.commit(), code('TRANSACTION'))
    await assert.rejects(tx.abort(), code('TRANSACTION'))
  })

  test('producer.send joins the open transaction', async () => {
    const producer = f.transport.producer({ transactionalId: 'tx' })
    const tx = await producer.beginTransaction()
    await producer.send([record('joined')])
    await tx.abort()
    assert.deepEqual(await (await reader('read_committed')).poll({ timeoutMs: 20 }), [])
  })

  test('a transaction open past transactionTimeoutMs from its first send is aborted and its producer fenced', async () => {
    const producer = f.transport.producer({ transactionalId: 'slow', transactionTimeoutMs: 50 })
    const tx = await producer.beginTransaction()
    await tx.send([record('never')])
    const stable = async () =>
      (await admin.listOffsets('out', 'latest', { isolationLevel: 'read_committed' }))[0]!.offset
    assert.equal(await stable(), 0, 'the open transaction holds the last stable offset')
    // The coordinator's abort writes a marker: the last stable offset moves past the transaction.
    while ((await stable()) < 2) await sleep(10)
    const fenced = code('FENCED')
    const named = (e: unknown) => fenced(e) && /slow.*transactionTimeoutMs.*50 ms/.test(String(e))
    await assert.rejects(tx.send([record('late')]), named)
    await assert.rejects(tx.commit(), named)
    await assert.rejects(producer.beginTransaction(), named)
    assert.deepEqual(await (await reader('read_committed')).poll({ timeoutMs: 20 }), [])
    // A new producer with the id starts afresh.
    const next = f.transport.producer({ transactionalId: 'slow', transactionTimeoutMs: 50 })
    const again = await next.beginTransaction()
    await again.send([record('next')])
    await again.commit()
    assert.deepEqual(values(await pollUntil(await reader('read_committed'), 1)), ['next'])
  })

  test('the transaction timeout starts at the first send, not at beginTransaction', async () => {
    const producer = f.transport.producer({ transactionalId: 'tx', transactionTimeoutMs: 30 })
    const tx = await producer.beginTransaction()
    await sleep(100)
    await tx.send([record('in time')])
    await tx.commit()
    assert.deepEqual(values(await pollUntil(await reader('read_committed'), 1)), ['in time'])
  })

  test('transactionTimeoutMs is checked against the broker maximum', () => {
    for (const bad of [0, -5, 1.5, 900_001]) {
      assert.throws(
        () => f.transport.producer({ transactionalId: 'tx', transactionTimeoutMs: bad }),
        (e: unknown) => code('INVALID_ARGUMENT')(e) && /transactionTimeoutMs/.test(String(e)),
      )
    }
  })

  test('closing a producer aborts its open transaction', async () => {
    const producer = f.transport.producer({ transactionalId: 'tx' })
    const tx = await producer.beginTransaction()
    await tx.send([record('unfinished')])
    await producer.close()
    await assert.rejects(tx.commit(), code('CLOSED'))
    const plain = f.transport.producer()
    await plain.send([record('next')])
    assert.deepEqual(values(await pollUntil(await reader('read_committed'), 1)), ['next'])
  })
})
