/**
 * The streams behaviour suite: apps, agents, operators and error policies, run unchanged on the
 * embedded broker and on a real Kafka broker (behaviour.memory.test.ts, behaviour.kafka.test.ts).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { App, DLQ_HEADERS, json, string, TributaryError } from '../../src/index.js'
import type { AppSettings } from '../../src/index.js'
import { openTransport } from '../../src/transport/index.js'
import type { ConsumedRecord, Transport } from '../../src/transport/types.js'
import { readRecords } from '../transport/helpers.js'

export interface BehaviourTarget {
  label: string
  broker(): string
}

type Ride = { id: number; vendor: string; amount: number }

export function streamsBehaviour(target: BehaviourTarget): void {
  describe(`streams behaviour on ${target.label}`, () => {
    let broker: string
    let transport: Transport
    const unique = (name: string): string => `${name}-${randomUUID().slice(0, 8)}`
    const settings = (id: string, extra: Partial<AppSettings> = {}): AppSettings => ({
      id,
      broker,
      web: false,
      topicPartitions: 3,
      commitIntervalMs: 100,
      sessionTimeoutMs: 6_000,
      log: () => undefined,
      ...extra,
    })

    before(() => {
      broker = target.broker()
      transport = openTransport(broker)
    })
    after(() => transport.close())

    const readTopic = (topic: string, count: number): Promise<ConsumedRecord[]> =>
      readRecords(transport, topic, count)

    async function committedTotal(group: string): Promise<number> {
      return (await transport.admin().listGroupOffsets(group)).reduce((n, o) => n + o.offset, 0)
    }

    test('ask sends a request to an agent and resolves with what the agent yields for it', async () => {
      const app = new App(settings(unique('ask')))
      const numbers = app.topic(unique('numbers'), { key: string, value: json<number>() })
      const double = app.agent('double', numbers, async function* (stream) {
        for await (const event of stream) {
          // Negative numbers get no answer: their askers time out.
          if (event.value >= 0) yield { doubled: event.value * 2, partition: event.partition }
        }
      })
      await app.start()
      try {
        const replies = await Promise.all(
          [1, 2, 3, 21].map((n) => double.ask<{ doubled: number }>({ key: `k${n}`, value: n })),
        )
        assert.deepEqual(
          replies.map((r) => r.doubled),
          [2, 4, 6, 42],
        )
        await assert.rejects(
          double.ask({ key: 'x', value: -1 }, { timeoutMs: 300 }),
          /No reply from agent "double" within 300 ms/,
        )
      } finally {
        await app.stop()
      }
    })

    test('groupBy repartitions by the new key: every event of a key lands in one partition, in order', async () => {
      const id = unique('groupby')
      const app = new App(settings(id))
      const rides = app.topic(unique('rides'), { key: string, value: json<Ride>() })
      const seen = new Map<string, Array<{ partition: number; id: number }>>()
      app.agent(
        'by-vendor',
        rides.stream().groupBy((r) => r.vendor, { name: 'by-vendor', key: string }),
        async (stream) => {
          for await (const e of stream) {
            const list = seen.get(e.key as string) ?? []
            list.push({ partition: e.partition, id: e.value.id })
            seen.set(e.key as string, list)
          }
        },
      )
      await app.start()
      try {
        // Keyed by ride id, so one vendor's rides start out spread over all partitions.
        await Promise.all(
          Array.from({ length: 300 }, (_, i) =>
            rides.send({ key: `ride-${i}`, value: { id: i, vendor: `v${i % 5}`, amount: i } }),
          ),
        )
        const deadline = Date.now() + 30_000
        while ([...seen.values()].reduce((n, l) => n + l.length, 0) < 300 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50))
        }
        assert.equal(
          [...seen.values()].reduce((n, l) => n + l.length, 0),
          300,
        )
        assert.ok((await transport.admin().listTopics()).includes(`${id}-by-vendor-repartition`))
        for (const [vendor, list] of seen) {
          assert.equal(new Set(list.map((x) => x.partition)).size, 1, `${vendor} in one partition`)
        }
      } finally {
        await app.stop()
      }
    })

    test('branch forwards the original bytes of each event to the topic of its first matching route', async () => {
      const app = new App(settings(unique('branch')))
      const rides = app.topic(unique('rides'), { key: string, value: json<Ride>() })
      const high = app.topic(unique('high'), { key: string, value: json<Ride>() })
      const low = app.topic(unique('low'), { key: string, value: json<Ride>() })
      app.agent('route', rides.stream().branch([[(r) => r.amount >= 40, high]], low), async (stream) => {
        for await (const e of stream) void e
      })
      await app.start()
      try {
        // Bytes with spacing a re-encoding would not keep: forwarding must not re-encode.
        const producer = transport.producer()
        await producer.send(
          Array.from({ length: 50 }, (_, i) => ({
            topic: rides.name,
            key: Buffer.from(`k${i}`),
            value: Buffer.from(`{ "id": ${i}, "vendor": "v", "amount": ${i} }`),
          })),
        )
        const highs = await readTopic(high.name, 10)
        const lows = await readTopic(low.name, 40)
        assert.equal(highs.length, 10)
        assert.equal(lows.length, 40)
        for (const r of highs)
          assert.match(r.value!.toString(), /^\{ "id": \d+, "vendor": "v", "amount": (4\d) \}$/)
        const deadline = Date.now() + 10_000
        while ((await committedTotal(app.id)) < 50 && Date.now() < deadline) await app.worker!.flush()
        assert.equal(
          await committedTotal(app.id),
          50,
          'routed records are committed once their copies are acknowledged',
        )
      } finally {
        await app.stop()
      }
    })

    test('an agent without a body sends every value of its chain to its sinks like the yielding body, answers ask() and dead-letters what it cannot encode', async () => {
      const id = unique('bodyless')
      const app = new App(settings(id, { errors: 'dlq' }))
      const rides = app.topic(unique('rides'), { key: string, value: json<Ride>() })
      const perKm = app.topic(unique('per-km'), { key: string, value: json<{ id: number; perKm: number }>() })
      const seen: number[] = []
      const agent = app.agent(
        'per-km',
        rides
          .stream()
          .filter((r) => r.amount > 0)
          // id 13 maps to undefined, which has no JSON form: the sink cannot encode it.
          .map((r) => (r.id === 13 ? undefined : { id: r.id, perKm: r.amount / 2 })),
        { sink: [perKm, (v: { id: number } | undefined) => void seen.push(v?.id ?? -1)] },
      )
      await app.start()
      try {
        const producer = transport.producer()
        const base = Date.UTC(2026, 0, 1)
        await producer.send(
          Array.from({ length: 40 }, (_, i) => ({
            topic: rides.name,
            key: Buffer.from(`k${i % 5}`),
            value: Buffer.from(JSON.stringify({ id: i, vendor: 'v', amount: i % 10 })),
            timestamp: base + i,
          })),
        )
        // amount 0 (ids 0, 10, 20, 30) is filtered out; 13 goes to the dead-letter topic.
        const out = await readTopic(perKm.name, 35)
        const letters = await readTopic(`${id}-dlq`, 1)
        assert.equal(out.length, 35)
        for (const r of out) {
          const value = JSON.parse(r.value!.toString()) as { id: number; perKm: number }
          assert.equal(value.perKm, (value.id % 10) / 2)
          assert.equal(r.key!.toString(), `k${value.id % 5}`, 'keyed like its input record')
          assert.equal(r.timestamp, base + value.id, 'timestamped like its input record')
        }
        assert.deepEqual(
          out.map((r) => (JSON.parse(r.value!.toString()) as { id: number }).id).sort((a, b) => a - b),
          Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 10 !== 0 && i !== 13),
        )
        assert.match(
          letters[0]!.headers.find(([k]) => k === DLQ_HEADERS.error)![1].toString(),
          /the value for sink topic "per-km-[0-9a-f]+" could not be encoded with codec json: expected a value with a JSON form, got undefined/,
        )
        // ask() sends to the agent's source topic: a ride, whatever the chain maps it to.
        const ride: Ride = { id: 99, vendor: 'v', amount: 7 }
        const reply = await agent.ask<{ id: number; perKm: number }>({
          key: 'q',
          value: ride as unknown as { id: number; perKm: number },
        })
        assert.deepEqual(reply, { id: 99, perKm: 3.5 })
        assert.ok(seen.includes(99) && seen.length >= 36, 'the function sink saw every value')
        await app.worker!.flush()
        const deadline = Date.now() + 10_000
        while ((await committedTotal(id)) < 41 && Date.now() < deadline) await app.worker!.flush()
        assert.equal(await committedTotal(id), 41, 'every record is committed, the dead-lettered one too')
      } finally {
        await app.stop()
      }
      const other = new App(settings(unique('nobody')))
      const input = other.topic(unique('t'), { key: string, value: json<Ride>() })
      const declare = other.agent.bind(other) as (name: string, source: unknown, options: object) => unknown
      assert.throws(() => declare('x', input, {}), /neither a body nor a sink/)
      assert.throws(() => declare('y', input, { sink: [] }), /neither a body nor a sink/)
    })

    test('with the dlq policy, 10 malformed records among 10,000 go to <appId>-dlq with their coordinates and the rest are processed', async () => {
      const id = unique('dlq')
      const app = new App(settings(id, { errors: 'dlq' }))
      const rides = app.topic(unique('rides'), { key: string, value: json<Ride>() })
      let processed = 0
      app.agent('count', rides, async (stream) => {
        for await (const e of stream) if (typeof e.value.id === 'number') processed++
      })
      const bad = new Set([17, 999, 1000, 2500, 4321, 5000, 6001, 7777, 8888, 9999])
      const producer = transport.producer()
      await transport.admin().createTopics([{ topic: rides.name, partitions: 3 }])
      for (let start = 0; start < 10_000; start += 1_000) {
        await producer.send(
          Array.from({ length: 1_000 }, (_, j) => {
            const i = start + j
            const value = bad.has(i) ? `{not json ${i}` : JSON.stringify({ id: i, vendor: 'v', amount: 1 })
            return { topic: rides.name, key: Buffer.from(`k${i % 7}`), value: Buffer.from(value) }
          }),
        )
      }
      await app.start()
      try {
        const letters = await readTopic(`${id}-dlq`, 10)
        const deadline = Date.now() + 60_000
        while (processed < 9_990 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
        assert.equal(processed, 9_990)
        const header = (r: ConsumedRecord, name: string): string | undefined =>
          r.headers.find(([k]) => k === name)?.[1].toString()
        assert.deepEqual(
          letters
            .map((r) => r.value!.toString().replace('{not json ', ''))
            .map(Number)
            .sort((a, b) => a - b),
          [...bad].sort((a, b) => a - b),
        )
        for (const r of letters) {
          assert.equal(header(r, DLQ_HEADERS.topic), rides.name)
          assert.match(header(r, DLQ_HEADERS.partition) ?? '', /^[0-2]$/)
          assert.match(header(r, DLQ_HEADERS.offset) ?? '', /^\d+$/)
          assert.match(header(r, DLQ_HEADERS.error) ?? '', /could not be decoded/)
        }
        await app.worker!.flush()
        assert.equal(await committedTotal(id), 10_000, 'the dead-lettered records are committed too')
      } finally {
        await app.stop()
      }
    })

    test('with the fail policy, the worker stops naming topic, partition and offset, and commits nothing past the bad record', async () => {
      const id = unique('fail')
      const app = new App(settings(id, { errors: 'fail', topicPartitions: 1 }))
      const rides = app.topic(unique('rides'), { key: string, value: json<Ride>() })
      let processed = 0
      app.agent('count', rides, async (stream) => {
        for await (const e of stream) if (e.value) processed++
      })
      await transport.admin().createTopics([{ topic: rides.name, partitions: 1 }])
      await transport.producer().send(
        Array.from({ length: 100 }, (_, i) => ({
          topic: rides.name,
          value: Buffer.from(i === 60 ? '{broken' : JSON.stringify({ id: i, vendor: 'v', amount: 1 })),
        })),
      )
      const worker = await app.start()
      await assert.rejects(worker.done, (error: unknown) => {
        assert.ok(error instanceof TributaryError)
        assert.match(error.message, new RegExp(`${rides.name}\\[0\\]@60`))
        assert.equal(error.offset, 60)
        return true
      })
      await app.stop()
      assert.equal(processed, 60)
      const [committed] = await transport.admin().listGroupOffsets(id)
      assert.equal(committed?.offset, 60, 'committed up to the bad record, not past it')
    })

    test('a graceful stop commits what was processed, so a restarted worker processes no record twice', async () => {
      const id = unique('restart')
      const topicName = unique('events')
      const seen: number[] = []
      const build = (): App => {
        const app = new App(settings(id))
        const events = app.topic(topicName, { key: string, value: json<number>() })
        app.agent('collect', events, async (stream) => {
          for await (const e of stream) seen.push(e.value)
        })
        return app
      }
      const first = build()
      await first.start()
      const producer = transport.producer()
      const send = (from: number, n: number) =>
        producer.send(
          Array.from({ length: n }, (_, i) => ({
            topic: topicName,
            key: Buffer.from(`k${(from + i) % 9}`),
            value: Buffer.from(String(from + i)),
          })),
        )
      await send(0, 500)
      const deadline = Date.now() + 30_000
      while (seen.length < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      await first.stop()
      await send(500, 500)
      const second = build()
      await second.start()
      try {
        while (seen.length < 1_000 && Date.now() < deadline + 30_000)
          await new Promise((r) => setTimeout(r, 20))
        await new Promise((r) => setTimeout(r, 300))
        assert.equal(seen.length, 1_000, 'every record exactly once')
        assert.equal(new Set(seen).size, 1_000)
      } finally {
        await second.stop()
      }
    })
  })
}
