/**
 * kafka:// group hand-over: a partition that moves between live members is revoked by its old owner
 * (onRevoked, where the app commits under the generation it still belongs to) before its new owner
 * gets it, so the new owner starts exactly at that commit and no record is delivered twice.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { Consumer, TopicPartition, Transport } from '../../../src/transport/types.js'
import { createTopic, open } from './helpers.js'

const fast = { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 300 }
const tpKey = (tp: TopicPartition): string => `${tp.topic}[${tp.partition}]`
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A member that processes records, commits only in onRevoked, and records what it did. */
class Member {
  readonly consumer: Consumer
  /** Next offset to commit per partition: everything before it was processed. */
  readonly processed = new Map<string, TopicPartition & { offset: number }>()
  /** What onRevoked committed, per partition. */
  readonly revokedAt = new Map<string, number>()
  /** The first offset received per partition, in the order the assignments came. */
  readonly firstOffset = new Map<string, number>()
  readonly events: string[] = []
  #stopped = false
  #loop: Promise<void> | undefined

  constructor(
    readonly name: string,
    transport: Transport,
    groupId: string,
    readonly deliveries: Map<string, string[]>,
  ) {
    this.consumer = transport.consumer({ groupId, offsetReset: 'earliest', ...fast })
  }

  async start(topic: string): Promise<void> {
    await this.consumer.subscribe([topic], {
      onAssigned: (tps) => void this.events.push(`+${tps.map(tpKey).sort().join(',')}`),
      onRevoked: async (tps) => {
        this.events.push(`-${tps.map(tpKey).sort().join(',')}`)
        const offsets = tps.flatMap((tp) => this.processed.get(tpKey(tp)) ?? [])
        // The commit that makes the hand-over exact: it must be accepted, not refused as stale.
        if (offsets.length > 0) await this.consumer.commit(offsets)
        for (const o of offsets) this.revokedAt.set(tpKey(o), o.offset)
        for (const tp of tps) this.processed.delete(tpKey(tp))
      },
    })
    this.#loop = this.#run()
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const records = await this.consumer.poll({ maxRecords: 25, timeoutMs: 100 })
      for (const r of records) {
        const k = tpKey(r)
        if (!this.firstOffset.has(k)) this.firstOffset.set(k, r.offset)
        const at = `${k}@${r.offset}`
        this.deliveries.set(at, [...(this.deliveries.get(at) ?? []), this.name])
        this.processed.set(k, { topic: r.topic, partition: r.partition, offset: r.offset + 1 })
      }
      // Slow processing, so that a rebalance finds work done and not yet committed.
      if (records.length > 0) await sleep(10)
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#loop
  }
}

describe('kafka:// group hand-over', () => {
  let transport: Transport
  before(() => {
    transport = open()
  })
  after(async () => {
    await transport.close()
  })

  test('a joining member takes over moved partitions exactly at what the old owner committed in onRevoked', async () => {
    const topic = await createTopic(transport, 6)
    const groupId = `g-${randomUUID()}`
    const perPartition = 1_000
    // Produced in small rounds while the members work, so that every partition is under way.
    const producer = transport.producer()
    const producing = (async () => {
      for (let round = 0; round < perPartition / 10; round++) {
        await producer.send(
          Array.from({ length: 60 }, (_, i) => ({
            topic,
            partition: i % 6,
            value: Buffer.from(`${round}-${i}`),
          })),
        )
        await sleep(15)
      }
    })()
    const deliveries = new Map<string, string[]>()
    const [a, b, c] = ['a', 'b', 'c'].map((name) => new Member(name, transport, groupId, deliveries)) as [
      Member,
      Member,
      Member,
    ]
    try {
      await a.start(topic)
      await b.start(topic)
      const deadline = Date.now() + 60_000
      while (a.consumer.assignment().length !== 3 || b.consumer.assignment().length !== 3) {
        assert.ok(Date.now() < deadline, 'a and b share the six partitions')
        await sleep(50)
      }
      // Let both process a part of every partition, uncommitted (they commit only in onRevoked).
      const underWay = (): boolean =>
        [a, b].flatMap((m) => [...m.processed.values()]).filter((o) => o.offset >= 100).length === 6
      while (!underWay()) {
        assert.ok(Date.now() < deadline, 'every partition is being processed')
        await sleep(20)
      }
      const before = new Map(
        [a, b].flatMap((m) => m.consumer.assignment().map((tp) => [tpKey(tp), m] as const)),
      )
      const revocations = (m: Member): number => m.events.filter((e) => e.startsWith('-')).length
      const revokedBefore = new Map([a, b].map((m) => [m, revocations(m)]))
      await c.start(topic)
      while (deliveries.size < 6 * perPartition) {
        assert.ok(Date.now() < deadline, `only ${deliveries.size} of ${6 * perPartition} records came`)
        await sleep(50)
      }
      await producing
      const sizes = [a, b, c].map((m) => m.consumer.assignment().length)
      assert.deepEqual(sizes, [2, 2, 2], 'balanced over three members')

      const twice = [...deliveries].filter(([, by]) => by.length > 1)
      assert.deepEqual(twice.slice(0, 5), [], `${twice.length} records delivered more than once`)
      const moved = c.consumer.assignment().map(tpKey)
      assert.equal(moved.length, 2)
      for (const k of moved) {
        const old = before.get(k)!
        const committed = old.revokedAt.get(k)
        assert.ok(committed !== undefined && committed > 0, `${old.name} committed ${k} in onRevoked`)
        assert.equal(c.firstOffset.get(k), committed, `${k}: c starts where ${old.name} committed`)
      }
      // Sticky: the partitions that did not go to c stayed where they were, with no revocation.
      for (const m of [a, b]) {
        for (const tp of m.consumer.assignment())
          assert.equal(before.get(tpKey(tp)), m, `${tpKey(tp)} stayed`)
        assert.equal(revocations(m) - revokedBefore.get(m)!, 1, `${m.name} revoked once`)
      }
      assert.deepEqual(c.events, [`+${moved.sort().join(',')}`])
    } finally {
      await Promise.all([a, b, c].map((m) => m.stop()))
      await Promise.all([a, b, c].map((m) => m.consumer.close()))
    }
  })

  test('close runs onRevoked while still a member: its final commit is accepted', async () => {
    const topic = await createTopic(transport, 2)
    const groupId = `g-${randomUUID()}`
    await transport
      .producer()
      .send(Array.from({ length: 20 }, (_, i) => ({ topic, partition: i % 2, value: Buffer.from(`${i}`) })))
    const deliveries = new Map<string, string[]>()
    const member = new Member('m', transport, groupId, deliveries)
    await member.start(topic)
    while (deliveries.size < 20) await sleep(20)
    await member.stop()
    await member.consumer.close()
    assert.deepEqual([...member.revokedAt].sort(), [
      [`${topic}[0]`, 10],
      [`${topic}[1]`, 10],
    ])
    const offsets = await transport.admin().listGroupOffsets(groupId)
    assert.deepEqual(
      offsets.map((o) => o.offset),
      [10, 10],
    )
  })

  test('partitions added to a subscribed topic are assigned without anyone rejoining by hand', async () => {
    const topic = await createTopic(transport, 2)
    const groupId = `g-${randomUUID()}`
    const a = transport.consumer({ groupId, ...fast })
    const b = transport.consumer({ groupId, ...fast })
    try {
      await a.subscribe([topic])
      await b.subscribe([topic])
      await transport.admin().createPartitions(topic, 6)
      const deadline = Date.now() + 30_000
      for (;;) {
        await Promise.all([a, b].map((m) => m.poll({ timeoutMs: 100 })))
        const sizes = [a, b].map((m) => m.assignment().length)
        if (sizes[0] === 3 && sizes[1] === 3) break
        assert.ok(Date.now() < deadline, `assignment stuck at ${sizes.join(',')}`)
      }
    } finally {
      await a.close()
      await b.close()
    }
  })
})
