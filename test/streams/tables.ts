/**
 * The tables suite: counts in a table logged to its changelog, the write cost of the cache,
 * restores (memory in full, LMDB from its checkpoint), the key check and the refusals, run
 * unchanged on the embedded broker and on a real Kafka broker (tables.memory.test.ts,
 * tables.kafka.test.ts).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { App, json, string } from '../../src/index.js'
import type { AppSettings, LogLevel, Table, WorkerStats } from '../../src/index.js'
import { openTransport } from '../../src/transport/index.js'
import type { FaultSpec } from '../../src/transport/memory/faults.js'
import type { Transport } from '../../src/transport/types.js'
import { pollUntil, readRecords } from '../transport/helpers.js'
import { waitUntil } from '../helpers/wait.js'

export interface TablesTarget {
  label: string
  broker(): string
  /** Injects a broker fault (memory:// only). */
  faults?: (broker: string, fault: FaultSpec) => void
}

type Like = { video: string; user: string }

export function tablesBehaviour(target: TablesTarget): void {
  describe(`tables on ${target.label}`, () => {
    let broker: string
    let transport: Transport
    let stateRoot: string
    const unique = (name: string): string => `${name}-${randomUUID().slice(0, 8)}`
    const settings = (id: string, extra: Partial<AppSettings> = {}): AppSettings => ({
      id,
      broker,
      web: false,
      topicPartitions: 3,
      commitIntervalMs: 100,
      sessionTimeoutMs: 6_000,
      stateDir: join(stateRoot, id),
      log: () => undefined,
      ...extra,
    })

    before(() => {
      broker = target.broker()
      transport = openTransport(broker)
      stateRoot = mkdtempSync(join(tmpdir(), 'tributary-tables-'))
    })
    after(async () => {
      await transport.close()
      rmSync(stateRoot, { recursive: true, force: true })
    })

    /** A counting app: likes keyed by video, counted per video in a table; each new count to `output` when given. */
    function counter(id: string, topic: string, extra: Partial<AppSettings> = {}, output?: string) {
      const app = new App(settings(id, extra))
      const likes = app.topic(topic, { key: string, value: json<Like>() })
      const counts = app.table<string | null, number>('counts', { default: 0 })
      const sink = output ? [app.topic(output, { key: string, value: string })] : []
      app.agent(
        'count',
        likes,
        async function* (stream) {
          for await (const like of stream) {
            const n = counts.update(like.key, (c) => c + 1)
            if (output) yield String(n)
          }
        },
        { tables: [counts], sink },
      )
      return { app, likes, counts }
    }

    /** The counts an output topic holds per key, read read_committed. */
    async function committedOutputs(topic: string, count: number): Promise<Map<string, number[]>> {
      const consumer = transport.consumer({ isolationLevel: 'read_committed' })
      await consumer.assign([0, 1, 2].map((partition) => ({ topic, partition, from: 'earliest' as const })))
      const outputs = await pollUntil(consumer, (all) => all.length >= count)
      await consumer.close()
      assert.equal(outputs.length, count)
      const perKey = new Map<string, number[]>()
      for (const r of outputs)
        perKey.set(r.key!.toString(), [...(perKey.get(r.key!.toString()) ?? []), Number(r.value!.toString())])
      return perKey
    }

    async function sendLikes(
      topic: string,
      n: number,
      videos: number,
      from = 0,
    ): Promise<Map<string, number>> {
      const producer = transport.producer()
      const expected = new Map<string, number>()
      const batch = []
      for (let i = from; i < from + n; i++) {
        const video = `v${i % videos}`
        expected.set(video, (expected.get(video) ?? 0) + 1)
        batch.push({
          topic,
          key: Buffer.from(video),
          value: Buffer.from(JSON.stringify({ video, user: `u${i}` })),
        })
        if (batch.length === 5_000) await producer.send(batch.splice(0))
      }
      if (batch.length > 0) await producer.send(batch)
      await producer.close()
      return expected
    }

    const snapshot = (table: Table<string | null, number, number>): Map<string, number> =>
      new Map([...table.entries()].map(([k, v]) => [k!, v]))

    async function counted(table: Table<string | null, number, number>, total: number): Promise<void> {
      await waitUntil(
        `the table to count ${total} likes`,
        () => [...table.entries()].reduce((n, [, v]) => n + v, 0) === total,
      )
    }

    const restored = (app: App): number =>
      app
        .worker!.tasks()
        .flatMap((t) => t.stateManager.stats())
        .reduce((n, s) => n + (s.restore?.restored ?? 0), 0)

    test('an agent counts per key into a table, logged to a compacted changelog with the source partitions', async () => {
      const id = unique('count')
      const topic = unique('likes')
      const { app, counts } = counter(id, topic)
      await app.start()
      let expected = new Map<string, number>()
      try {
        expected = await sendLikes(topic, 3_000, 40)
        await counted(counts, 3_000)
        assert.deepEqual(snapshot(counts), expected)
        assert.equal(counts.get('v7'), expected.get('v7'))
        assert.equal(counts.get('no-such-video'), 0, 'a missing key reads as the default')
        assert.equal(counts.size(), 40)
        await app.worker!.flush()
      } finally {
        await app.stop()
      }
      const changelog = `${id}-counts-changelog`
      const [description] = await transport.admin().describeTopics([changelog])
      assert.equal(description!.partitions.length, 3)
      const policy = (await transport.admin().describeConfigs(changelog)).find(
        (c) => c.name === 'cleanup.policy',
      )
      assert.equal(policy?.value, 'compact')
      // The latest record per key in the changelog is the table's value.
      const ends = await transport.admin().listOffsets(changelog, 'latest')
      const records = await readRecords(
        transport,
        changelog,
        ends.reduce((n, o) => n + o.offset, 0),
      )
      const latest = new Map(records.map((r) => [r.key!.toString(), Number(r.value!.toString())]))
      assert.deepEqual(latest, expected)
    })

    test('exactly-once: counts into a table with outputs, committed in transactions and read read_committed', async () => {
      const id = unique('eos')
      const topic = unique('likes')
      const outTopic = unique('counts-out')
      const { app, counts } = counter(id, topic, { processingGuarantee: 'exactly_once' }, outTopic)
      await app.start()
      let expected = new Map<string, number>()
      try {
        expected = await sendLikes(topic, 2_000, 20)
        await counted(counts, 2_000)
        await app.worker!.flush()
      } finally {
        await app.stop()
      }
      const perKey = await committedOutputs(outTopic, 2_000)
      assert.deepEqual(new Map([...perKey].map(([k, list]) => [k, Math.max(...list)])), expected)
      const committedTotal = (await transport.admin().listGroupOffsets(id)).reduce((n, o) => n + o.offset, 0)
      assert.equal(committedTotal, 2_000)
    })

    test('a table request to either of two workers (on 127.0.0.2 and 127.0.0.3) is answered by the key owner', async () => {
      const id = unique('iq')
      const topic = unique('likes')
      const worker = (n: number) =>
        counter(id, topic, {
          workerId: `w${n}`,
          stateDir: join(stateRoot, id, `w${n}`),
          web: { host: `127.0.0.${n}`, port: 0 },
          topicPartitions: 4,
        })
      const a = worker(2)
      const b = worker(3)
      await a.app.start()
      await b.app.start()
      try {
        const expected = await sendLikes(topic, 400, 20)
        const total = (): number =>
          [...a.counts.entries(), ...b.counts.entries()].reduce((n, [, v]) => n + v, 0)
        await waitUntil('both workers counted every like', () => total() === 400)
        const urls = [a.app.opsUrl!, b.app.opsUrl!]
        assert.match(urls[0]!, /^http:\/\/127\.0\.0\.2:\d+$/)
        assert.match(urls[1]!, /^http:\/\/127\.0\.0\.3:\d+$/)
        await waitUntil("each worker knows the other one's partitions", async () => {
          const listing = (await (await fetch(`${urls[0]}/tables`)).json()) as {
            tables: Array<{ partitions: Array<{ owner: string | null }> }>
          }
          const owners = new Set(listing.tables[0]!.partitions.map((p) => p.owner))
          return owners.size === 2 && urls.every((u) => owners.has(u))
        })
        let forwarded = 0
        const onA = new Set([...a.counts.entries()].map(([k]) => k))
        assert.throws(
          () => a.counts.get([...expected.keys()].find((v) => !onA.has(v))!),
          /which this worker does not hold now/,
        )
        for (const [video, count] of expected) {
          const local = onA.has(video) ? 0 : 1
          for (const url of urls) {
            const response = await fetch(`${url}/tables/counts/${video}`)
            assert.equal(response.status, 200, `${url} ${video}`)
            const body = (await response.json()) as { value: number; worker: string }
            assert.equal(body.value, count)
            assert.equal(body.worker, local === 0 ? 'w2' : 'w3', 'answered by the owner')
            if ((url === urls[0]) === (local === 1)) forwarded++
          }
        }
        assert.ok(forwarded >= 10, `${forwarded} requests were forwarded to the other worker`)
        const missing = await fetch(`${urls[1]}/tables/counts/no-such-video`)
        assert.equal(missing.status, 404)
        const unknown = await fetch(`${urls[1]}/tables/nope/x`)
        assert.equal(unknown.status, 404)
        // This worker's own entries, in pages.
        const page = (await (await fetch(`${urls[0]}/tables/counts?limit=3`)).json()) as {
          entries: Array<{ key: string }>
          next: string | null
        }
        assert.equal(page.entries.length, 3)
        const rest = (await (
          await fetch(`${urls[0]}/tables/counts?limit=1000&after=${encodeURIComponent(page.next!)}`)
        ).json()) as {
          entries: Array<{ key: string }>
          next: string | null
        }
        assert.equal(page.entries.length + rest.entries.length, [...a.counts.entries()].length)
        assert.equal(rest.next, null)
      } finally {
        await Promise.all([a.app.stop(), b.app.stop()])
      }
    })

    test('a global table written on either of two workers is readable on both, and restored by a new one', async () => {
      const id = unique('global')
      const topic = unique('likes')
      const worker = (n: number) => {
        const app = new App(settings(id, { workerId: `w${n}`, stateDir: join(stateRoot, id, `w${n}`) }))
        const likes = app.topic(topic, { key: string, value: json<Like>() })
        const lastUser = app.globalTable<string, string>('last-user', {
          key: string as never,
          value: string as never,
        })
        app.agent('remember', likes, async (stream) => {
          for await (const like of stream) await lastUser.set(like.value.video, like.value.user)
        })
        return { app, lastUser }
      }
      const a = worker(1)
      const b = worker(2)
      await a.app.start()
      await b.app.start()
      try {
        await sendLikes(topic, 30, 30)
        for (const w of [a, b]) await waitUntil('every video on both workers', () => w.lastUser.size() === 30)
        for (let i = 0; i < 30; i++) {
          assert.equal(a.lastUser.get(`v${i}`), `u${i}`)
          assert.equal(b.lastUser.get(`v${i}`), `u${i}`)
        }
        const owners = [a, b].map((w) => w.app.worker!.assignment().length)
        assert.ok(
          owners.every((n) => n > 0),
          `both workers processed likes (partitions ${owners.join(', ')})`,
        )
      } finally {
        await Promise.all([a.app.stop(), b.app.stop()])
      }
      const c = worker(3)
      await c.app.start()
      try {
        assert.equal(c.lastUser.size(), 30, 'restored before the worker started')
        assert.equal(c.lastUser.get('v29'), 'u29')
      } finally {
        await c.app.stop()
      }
    })

    test(
      'exactly-once: a commit that fails aborts its transaction and rewinds the tasks; nothing is lost or repeated',
      { skip: !target.faults },
      async () => {
        const id = unique('eos-abort')
        const topic = unique('likes')
        const outTopic = unique('counts-out')
        const lines: string[] = []
        const log = (level: LogLevel, message: string): void => void lines.push(`${level} ${message}`)
        const { app } = counter(id, topic, { processingGuarantee: 'exactly_once', log }, outTopic)
        await app.start()
        try {
          await sendLikes(topic, 300, 10)
          await waitUntil(
            'some likes committed',
            async () => (await transport.admin().listGroupOffsets(id)).reduce((n, o) => n + o.offset, 0) > 0,
          )
          target.faults!(broker, { api: 'endTxn', code: 'TIMEOUT', times: 1 })
          await sendLikes(topic, 300, 10, 300)
          await waitUntil(
            'all likes committed',
            async () =>
              (await transport.admin().listGroupOffsets(id)).reduce((n, o) => n + o.offset, 0) === 600,
          )
          assert.ok(
            lines.some((l) => /the transaction was aborted/.test(l)),
            lines.filter((l) => l.startsWith('warn')).join('\n'),
          )
        } finally {
          await app.stop()
        }
        const perKey = await committedOutputs(outTopic, 600)
        for (const [key, list] of perKey)
          assert.deepEqual(
            list,
            Array.from({ length: 60 }, (_, i) => i + 1),
            key,
          )
      },
    )

    test('100,000 updates of one key across 20 commits add about 20 changelog records, not 100,000', async () => {
      const id = unique('cost')
      const topic = unique('likes')
      // Commits come every 5,000 records, not on a timer: 100,000 records are 20 commits.
      const { app, counts } = counter(id, topic, {
        commitIntervalMs: 600_000,
        commitEvery: 5_000,
        topicPartitions: 1,
      })
      await app.start()
      try {
        await sendLikes(topic, 100_000, 1)
        await counted(counts, 100_000)
        await app.worker!.flush()
      } finally {
        await app.stop()
      }
      const [end] = await transport.admin().listOffsets(`${id}-counts-changelog`, 'latest')
      assert.ok(end!.offset >= 2 && end!.offset <= 25, `${end!.offset} changelog records for 20 commits`)
    })

    test('a memory table is restored in full from its changelog when its app starts again', async () => {
      const id = unique('memory-restore')
      const topic = unique('likes')
      const first = counter(id, topic)
      await first.app.start()
      const expected = await sendLikes(topic, 2_000, 25)
      try {
        await counted(first.counts, 2_000)
      } finally {
        await first.app.stop()
      }
      const second = counter(id, topic, { web: { port: 0 } })
      await second.app.start()
      try {
        await waitUntil('the restore', () => snapshot(second.counts).size === 25)
        assert.deepEqual(snapshot(second.counts), expected)
        assert.ok(restored(second.app) >= 25, `restored ${restored(second.app)} records`)
        // /stats shows each store's restore.
        const stats = (await (await fetch(`${second.app.opsUrl}/stats`)).json()) as WorkerStats
        const stores = stats.tasks!.flatMap((t) => t.stores ?? [])
        assert.equal(stores.length, 3)
        assert.ok(stores.every((s) => s.table === 'counts' && s.restore?.done && s.restore.remaining === 0))
        assert.equal(
          stores.reduce((n, s) => n + s.restore!.restored, 0),
          restored(second.app),
        )
        const more = await sendLikes(topic, 500, 25, 2_000)
        for (const [k, v] of more) expected.set(k, expected.get(k)! + v)
        await counted(second.counts, 2_500)
        assert.deepEqual(snapshot(second.counts), expected)
      } finally {
        await second.app.stop()
      }
    })

    test('an LMDB table restarted restores only the changelog tail past its checkpoint', async () => {
      const id = unique('lmdb-restore')
      const topic = unique('likes')
      const lmdb = { store: 'lmdb://' }
      const first = counter(id, topic, lmdb)
      await first.app.start()
      const expected = await sendLikes(topic, 2_000, 25)
      try {
        await counted(first.counts, 2_000)
      } finally {
        await first.app.stop()
      }
      // A clean stop checkpointed the whole changelog: nothing to restore.
      const second = counter(id, topic, lmdb)
      await second.app.start()
      try {
        await waitUntil('the tasks to run', () =>
          second.app.worker!.tasks().every((t) => t.state === 'running'),
        )
        assert.equal(restored(second.app), 0)
        assert.deepEqual(snapshot(second.counts), expected)
      } finally {
        await second.app.stop()
      }
      // Another owner wrote three keys meanwhile (the partitions had moved): only those are restored.
      const producer = transport.producer()
      const changelog = `${id}-counts-changelog`
      const moved = ['v1', 'v2', 'v3'].map((k) => ({
        topic: changelog,
        key: Buffer.from(k),
        value: Buffer.from('1000'),
      }))
      await producer.send(moved)
      await producer.close()
      const third = counter(id, topic, lmdb)
      await third.app.start()
      try {
        await waitUntil('the tasks to run', () =>
          third.app.worker!.tasks().every((t) => t.state === 'running'),
        )
        assert.equal(restored(third.app), 3)
        for (const k of ['v1', 'v2', 'v3']) assert.equal(third.counts.get(k), 1000)
        assert.equal(third.counts.get('v4'), expected.get('v4'))
      } finally {
        await third.app.stop()
      }
    })

    /**
     * Two workers count; one leaves; what the other restores of the tasks it takes over. With a
     * standby replica it already holds a copy of them (shown in /stats), so only the tail is read.
     */
    async function failover(extra: Partial<AppSettings>, standbyReplicas: number) {
      const id = unique('failover')
      const topic = unique('likes')
      const worker = (n: number) =>
        counter(id, topic, {
          ...extra,
          standbyReplicas,
          workerId: `w${n}`,
          stateDir: join(stateRoot, id, `w${n}`),
          topicPartitions: 4,
          ...(n === 2 ? { web: { port: 0 } } : {}),
        })
      const a = worker(1)
      const b = worker(2)
      await a.app.start()
      await b.app.start()
      let stopped = false
      try {
        const total = (): number =>
          [...a.counts.entries(), ...b.counts.entries()].reduce((n, [, v]) => n + v, 0)
        // Ten rounds, each counted (and so committed) before the next: every key is logged ten times.
        const expected = new Map<string, number>()
        for (let round = 0; round < 10; round++) {
          for (const [k, v] of await sendLikes(topic, 400, 40, round * 400))
            expected.set(k, (expected.get(k) ?? 0) + v)
          await waitUntil(`both workers counted round ${round + 1}`, () => total() === (round + 1) * 400)
          await waitUntil(`round ${round + 1} committed`, async () => {
            const offsets = await transport.admin().listGroupOffsets(id)
            return offsets.reduce((n, o) => n + o.offset, 0) === (round + 1) * 400
          })
        }
        await waitUntil('both workers run tasks', () =>
          [a, b].every((w) => w.app.worker!.tasks().some((t) => t.state === 'running')),
        )
        const moving = a.app.worker!.tasks().map((t) => t.id)
        if (standbyReplicas > 0) {
          // b keeps a copy of each of a's tasks, caught up with what a committed.
          await waitUntil("b's standby copies of a's tasks to catch up", async () => {
            const stats = (await (await fetch(`${b.app.opsUrl}/stats`)).json()) as WorkerStats
            const copies = new Map((stats.standbys ?? []).map((s) => [s.id, s]))
            return moving.every((id) => copies.get(id)?.stores.every((s) => s.lag === 0) === true)
          })
          const metrics = await (await fetch(`${b.app.opsUrl}/metrics`)).text()
          assert.match(metrics, /tributary_standby_lag_records\{[^}]*table="counts"[^}]*\} 0/)
        }
        await a.app.stop()
        stopped = true
        await waitUntil("b to run a's tasks too", () =>
          moving.every((id) => b.app.worker!.tasks().find((t) => t.id === id)?.state === 'running'),
        )
        assert.deepEqual(snapshot(b.counts), expected, 'b holds every count after the failover')
        const more = await sendLikes(topic, 400, 40, 4_000)
        for (const [k, v] of more) expected.set(k, expected.get(k)! + v)
        await counted(b.counts, 4_400)
        assert.deepEqual(snapshot(b.counts), expected)
        return b.app
          .worker!.tasks()
          .filter((t) => moving.includes(t.id))
          .flatMap((t) => t.stateManager.stats())
          .reduce((n, s) => n + (s.restore?.restored ?? 0), 0)
      } finally {
        await Promise.all([stopped ? undefined : a.app.stop(), b.app.stop()])
      }
    }

    for (const [label, extra] of [
      ['memory, at-least-once', {}],
      ['LMDB, exactly-once', { store: 'lmdb://', processingGuarantee: 'exactly_once' }],
    ] as const) {
      test(`standby replicas (${label}): a failover restores only the tail, fewer records than without`, async (t) => {
        const without = await failover(extra, 0)
        const withStandby = await failover(extra, 1)
        t.diagnostic(
          `records restored by the failover: ${without} without a standby, ${withStandby} with one`,
        )
        assert.ok(without >= 100, `without a standby the tasks are restored from the start (${without})`)
        assert.ok(withStandby < without, `${withStandby} restored with a standby, ${without} without`)
      })
    }

    test('a checkpoint past the end of a recreated changelog is detected: a warning, then a full restore', async () => {
      const id = unique('ahead')
      const topic = unique('likes')
      const lines: string[] = []
      const log = (level: LogLevel, message: string): void => void lines.push(`${level} ${message}`)
      const first = counter(id, topic, { store: 'lmdb://', topicPartitions: 1 })
      await first.app.start()
      await sendLikes(topic, 300, 3)
      try {
        await counted(first.counts, 300)
      } finally {
        await first.app.stop()
      }
      const changelog = `${id}-counts-changelog`
      await transport.admin().deleteTopics([changelog])
      await waitUntil(
        'the changelog to be gone',
        async () => !(await transport.admin().listTopics()).includes(changelog),
      )
      await transport
        .admin()
        .createTopics([{ topic: changelog, partitions: 1, configs: { 'cleanup.policy': 'compact' } }])
      const producer = transport.producer()
      await producer.send([{ topic: changelog, key: Buffer.from('v0'), value: Buffer.from('7') }])
      await producer.close()
      const second = counter(id, topic, { store: 'lmdb://', topicPartitions: 1, log })
      await second.app.start()
      try {
        await waitUntil('the restore', () => second.app.worker!.tasks().every((t) => t.state === 'running'))
        assert.ok(
          lines.some((l) => /^warn .*checkpoint at offset \d+, past the end of .*restoring in full/.test(l)),
          lines.join('\n'),
        )
        assert.deepEqual(snapshot(second.counts), new Map([['v0', 7]]))
      } finally {
        await second.app.stop()
      }
    })

    test('a table keyed otherwise than its stream is refused with a hint to groupBy; after groupBy it counts', async () => {
      const id = unique('keycheck')
      const topic = unique('likes')
      const app = new App(settings(id, { errors: 'fail' }))
      const likes = app.topic(topic, { key: string, value: json<Like>() })
      const byUser = app.table<string, number>('by-user', { key: string as never, default: 0 })
      app.agent(
        'per-user',
        likes,
        async (stream) => {
          for await (const like of stream) byUser.update(like.value.user, (n) => n + 1)
        },
        { tables: [byUser] },
      )
      await app.start()
      await sendLikes(topic, 30, 3)
      await assert.rejects(
        app.worker!.done,
        /table "by-user": key "u\d+" belongs to partition \d, but task \d_\d reads partition \d .*groupBy/,
      )
      await app.stop()

      const fixed = new App(settings(unique('keycheck-fixed')))
      const likes2 = fixed.topic(topic, { key: string, value: json<Like>() })
      const perUser = fixed.table<string, number>('by-user', { default: 0 })
      fixed.agent(
        'per-user',
        likes2.stream().groupBy((like) => like.user, { name: 'by-user', key: string as never }),
        async (stream) => {
          for await (const like of stream) perUser.update(like.key, (n) => n + 1)
        },
        { tables: [perUser] },
      )
      await fixed.start()
      try {
        await waitUntil('30 users counted', () => perUser.size() === 30)
        assert.equal(perUser.get('u7'), 1)
      } finally {
        await fixed.stop()
      }
    })

    test('a table is refused when no agent names it, when an agent uses it unnamed, and when written outside an agent', async () => {
      const lone = new App(settings(unique('lone')))
      lone.topic(unique('t'), { key: string, value: json() })
      lone.table('orphan')
      assert.throws(() => lone.compile(), /Table "orphan" is named by no agent: .*tables: \[orphan\]/)

      const app = new App(settings(unique('unnamed')))
      const topic = unique('likes')
      const likes = app.topic(topic, { key: string, value: json<Like>() })
      const named = app.table<string | null, number>('named', { default: 0 })
      const other = app.table<string | null, number>('other', { default: 0 })
      app.agent(
        'a',
        likes,
        async (stream) => {
          for await (const like of stream) named.update(like.key, (n) => n + 1)
        },
        { tables: [named] },
      )
      app.agent(
        'b',
        app.topic(unique('other'), { key: string, value: json() }),
        async (stream) => {
          for await (const e of stream) other.update(e.key, (n) => n + 1)
        },
        { tables: [other] },
      )
      app.agent('c', likes, async (stream) => {
        for await (const like of stream) other.get(like.key)
      })
      await app.start()
      try {
        assert.throws(() => named.set('x', 1), /table "named": set\(\) outside an agent/)
        await sendLikes(topic, 3, 3)
        await assert.rejects(
          app.worker!.done,
          /table "other" is used by "c" \(task \d_\d\), which does not name it/,
        )
      } finally {
        await app.stop()
      }
      assert.throws(
        () => new App(settings('x')).table('t', { default: { n: 0 } as never }),
        /give a function that makes one/,
      )
      assert.throws(() => new App(settings('y')).table('t', { store: 'rocks://x' }), /unknown scheme rocks:/)
    })
  })
}
