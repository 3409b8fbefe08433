import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { TributaryError } from '../../../src/errors.js'
import type {
  Admin,
  ConsumedRecord,
  Consumer,
  ConsumerOptions,
  Producer,
  TopicPartition,
} from '../../../src/transport/types.js'
import { injectFault } from '../../../src/transport/memory/transport.js'
import { fixture, pollUntil, sleep, text, type Fixture } from './helpers.js'

const code = (c: string) => (error: unknown) => error instanceof TributaryError && error.code === c
const key = (tp: TopicPartition) => `${tp.topic}[${tp.partition}]`

/** A group member that records what it processed and commits the way a careful at-least-once app does. */
class Worker {
  readonly seen: ConsumedRecord[] = []
  readonly events: string[] = []
  /** Next offsets processed but not yet committed, per partition. */
  private readonly pending = new Map<string, { topic: string; partition: number; offset: number }>()
  readonly consumer: Consumer

  constructor(f: Fixture, options: ConsumerOptions = {}) {
    this.consumer = f.transport.consumer({ groupId: 'g', offsetReset: 'earliest', ...options })
  }

  subscribe(topics = ['t']): Promise<void> {
    return this.consumer.subscribe(topics, {
      onAssigned: (tps) => void this.events.push(`assigned ${tps.map(key).join(',')}`),
      onRevoked: async (tps) => {
        this.events.push(`revoked ${tps.map(key).join(',')}`)
        // Final commit of what was processed on the partitions we are losing.
        const mine = tps.flatMap((tp) => this.pending.get(key(tp)) ?? [])
        if (mine.length > 0) await this.consumer.commit(mine)
        for (const tp of tps) this.pending.delete(key(tp))
      },
    })
  }

  async poll(maxRecords = 5, timeoutMs = 20): Promise<ConsumedRecord[]> {
    const records = await this.consumer.poll({ maxRecords, timeoutMs })
    for (const r of records) {
      this.seen.push(r)
      this.pending.set(key(r), { topic: r.topic, partition: r.partition, offset: r.offset + 1 })
    }
    return records
  }

  async commit(): Promise<void> {
    await this.consumer.commit([...this.pending.values()])
    this.pending.clear()
  }

  partitions(): string[] {
    return this.consumer.assignment().map(key)
  }
}

describe('memory:// consumer groups', () => {
  let f: Fixture
  let admin: Admin
  let producer: Producer

  beforeEach(async () => {
    f = fixture()
    admin = f.transport.admin()
    producer = f.transport.producer()
    await admin.createTopics([{ topic: 't', partitions: 6 }])
  })
  afterEach(() => f.close())

  const produce = (count: number) =>
    producer.send(
      Array.from({ length: count }, (_, i) => ({ topic: 't', partition: i % 6, value: text(`v${i}`) })),
    )

  test('three members share six partitions two each, disjoint and complete', async () => {
    const workers = [new Worker(f), new Worker(f), new Worker(f)]
    for (const w of workers) await w.subscribe()
    for (const w of workers) await w.poll()
    const owned = workers.map((w) => w.partitions())
    assert.deepEqual(
      owned.map((list) => list.length),
      [2, 2, 2],
    )
    assert.equal(new Set(owned.flat()).size, 6)
    const description = await admin.describeGroup('g')
    assert.equal(description.state, 'Stable')
    assert.deepEqual(description.members.map((m) => m.assignment.length).sort(), [2, 2, 2])
  })

  test('a member that leaves hands its partitions over with nothing redelivered and nothing lost', async () => {
    await produce(120)
    const a = new Worker(f)
    const b = new Worker(f)
    await a.subscribe()
    await b.subscribe()
    // Both make progress, committing after each batch (but not after the last one).
    for (let i = 0; i < 4; i++) {
      await a.poll()
      await a.commit()
      await b.poll()
      if (i < 3) await b.commit()
    }
    // b leaves: close() runs onRevoked, which commits its last processed batch, then the partitions move.
    await b.consumer.close()
    while (a.seen.length + b.seen.length < 120) {
      const got = await a.poll(50, 200)
      if (got.length === 0) break
      await a.commit()
    }
    const offsets = [...a.seen, ...b.seen].map((r) => `${r.partition}@${r.offset}`)
    assert.equal(offsets.length, 120, 'every record delivered exactly once')
    assert.equal(new Set(offsets).size, 120)
    assert.deepEqual(a.partitions().length, 6)
    assert.ok(b.events.at(-1)!.startsWith('revoked'))
  })

  test('a joining member waits until the old owner revoked, then starts from its final commit', async () => {
    await produce(60)
    const a = new Worker(f)
    await a.subscribe()
    await a.poll(30)
    assert.equal(a.partitions().length, 6)
    const b = new Worker(f)
    await b.subscribe()
    // a has not polled since b joined: b gets nothing, since a still owns (and may commit) everything.
    assert.deepEqual(await b.poll(100, 30), [])
    assert.deepEqual(b.partitions(), [])
    assert.equal((await admin.describeGroup('g')).state, 'PreparingRebalance')
    // a's next poll revokes three partitions (committing its progress on them); b then takes them over.
    await a.poll(100)
    assert.equal(a.partitions().length, 3)
    await pollUntil(b.consumer, 1).then((records) => b.seen.push(...records))
    while ((await b.poll(100, 30)).length > 0);
    while ((await a.poll(100, 30)).length > 0);
    const offsets = [...a.seen, ...b.seen].map((r) => `${r.partition}@${r.offset}`)
    assert.equal(new Set(offsets).size, offsets.length, 'no record delivered twice')
    assert.equal(offsets.length, 60)
    assert.equal(b.partitions().length, 3)
    assert.equal((await admin.describeGroup('g')).state, 'Stable')
  })

  test('a commit of a revoked partition is refused, one still owned is accepted', async () => {
    const a = new Worker(f)
    await a.subscribe()
    await a.poll()
    const b = new Worker(f)
    await b.subscribe()
    const all = a.consumer.assignment()
    // Before a's next poll it still owns everything, so the commit is safe and accepted.
    await a.consumer.commit(all.map((tp) => ({ ...tp, offset: 0 })))
    await a.poll()
    const kept = new Set(a.partitions())
    const lost = all.filter((tp) => !kept.has(key(tp)))
    assert.equal(lost.length, 3)
    await assert.rejects(
      a.consumer.commit([{ ...lost[0]!, offset: 1 }]),
      (e: unknown) => code('REBALANCE')(e) && new RegExp(`t\\[${lost[0]!.partition}\\]`).test(String(e)),
    )
  })

  test('onAssigned is awaited before any record of the new partitions is returned', async () => {
    await produce(6)
    const order: string[] = []
    const consumer = f.transport.consumer({ groupId: 'g', offsetReset: 'earliest' })
    await consumer.subscribe(['t'], {
      onAssigned: async () => {
        await sleep(20)
        order.push('assigned')
      },
    })
    const records = await consumer.poll()
    order.push(`records ${records.length}`)
    assert.deepEqual(order, ['assigned', 'records 6'])
  })

  test('onAssigned may seek the new partitions before the first fetch', async () => {
    await produce(12)
    const consumer = f.transport.consumer({ groupId: 'g', offsetReset: 'earliest' })
    await consumer.subscribe(['t'], {
      onAssigned: (tps) => {
        for (const tp of tps) consumer.seek({ ...tp, offset: 1 })
      },
    })
    const records = await pollUntil(consumer, 6)
    assert.ok(records.every((r) => r.offset === 1))
  })

  test('a member whose heartbeats stop is evicted after its session timeout, and its next poll reports the loss', async () => {
    const a = new Worker(f, { clientId: 'a', sessionTimeoutMs: 200, heartbeatIntervalMs: 20 })
    await a.subscribe()
    await a.poll()
    const b = new Worker(f, { clientId: 'b', sessionTimeoutMs: 5000 })
    await b.subscribe()
    // a's heartbeats no longer reach the broker, as for a process frozen or cut off from it.
    const heal = injectFault(f.name, {
      api: 'heartbeat',
      code: 'REQUEST_TIMED_OUT',
      times: Infinity,
      clientId: 'a',
    })
    const started = Date.now()
    // b's poll is woken when a's session expires, and takes all six partitions.
    while (b.partitions().length < 6 && Date.now() - started < 5000) await b.poll(10, 500)
    assert.equal(b.partitions().length, 6)
    assert.ok(Date.now() - started >= 150, `handed over after ${Date.now() - started} ms`)
    assert.equal((await admin.describeGroup('g')).members.length, 1)
    // The evicted member's commit is refused; its next poll reports the loss and rejoins.
    await assert.rejects(a.consumer.commit([{ topic: 't', partition: 0, offset: 0 }]), code('REBALANCE'))
    heal()
    await a.poll()
    assert.ok(a.events.includes('revoked t[0],t[1],t[2],t[3],t[4],t[5]'), a.events.join('; '))
    assert.equal((await admin.describeGroup('g')).members.length, 2)
  })

  test('a member that heartbeats stays in the group however long it goes without polling', async () => {
    const consumer = f.transport.consumer({ groupId: 'g', sessionTimeoutMs: 400, heartbeatIntervalMs: 20 })
    await consumer.subscribe(['t'])
    await consumer.poll({ timeoutMs: 0 })
    assert.equal(consumer.assignment().length, 6)
    // Several session timeouts without a poll: only the heartbeats keep the membership.
    await sleep(1500)
    assert.equal((await admin.describeGroup('g')).members.length, 1)
    await consumer.commit([{ topic: 't', partition: 0, offset: 0 }])
  })

  test('a grown topic is rebalanced over the members', async () => {
    const a = new Worker(f)
    await a.subscribe()
    await a.poll()
    await admin.createPartitions('t', 8)
    await a.poll()
    assert.equal(a.partitions().length, 8)
    assert.ok(a.events.includes('assigned t[6],t[7]'))
  })

  test('members subscribed to several topics get a balanced share of all partitions', async () => {
    await admin.createTopics([{ topic: 'u', partitions: 2 }])
    const workers = [new Worker(f), new Worker(f)]
    for (const w of workers) await w.subscribe(['t', 'u'])
    for (const w of workers) await w.poll()
    assert.deepEqual(
      workers.map((w) => w.partitions().length),
      [4, 4],
    )
  })

  test('a consumer outside the group cannot commit while the group has members', async () => {
    const member = new Worker(f)
    await member.subscribe()
    const outsider = f.transport.consumer({ groupId: 'g' })
    await outsider.assign([{ topic: 't', partition: 0 }])
    await assert.rejects(outsider.commit([{ topic: 't', partition: 0, offset: 1 }]), code('REBALANCE'))
  })
})
