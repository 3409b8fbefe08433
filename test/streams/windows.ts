/**
 * The windows suite: windowed tables on a broker, run unchanged on the embedded broker and on a
 * real Kafka broker (windows.memory.test.ts, windows.kafka.test.ts). Time comes from the records'
 * explicit timestamps; only the idle timeout runs on the wall clock.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { App, json, string, tumbling, type WindowValue } from '../../src/index.js'
import { openTransport } from '../../src/transport/index.js'
import type { Transport } from '../../src/transport/types.js'
import { pollUntil } from '../transport/helpers.js'
import { waitUntil } from '../helpers/wait.js'

export interface WindowsTarget {
  label: string
  broker(): string
}

const T0 = Date.UTC(2024, 5, 1)
const PARTITIONS = 3

export function windowsBehaviour(target: WindowsTarget): void {
  describe(`windowed tables on ${target.label}`, () => {
    let broker: string
    let transport: Transport
    let stateRoot: string
    const unique = (name: string): string => `${name}-${randomUUID().slice(0, 8)}`

    before(() => {
      broker = target.broker()
      transport = openTransport(broker)
      stateRoot = mkdtempSync(join(tmpdir(), 'tributary-windows-'))
    })
    after(async () => {
      await transport.close()
      rmSync(stateRoot, { recursive: true, force: true })
    })

    test('tumbling 1 s windows over timestamped records: each final value is emitted exactly once, the last by the idle timeout', async () => {
      const id = unique('per-second')
      const input = unique('clicks')
      const output = unique('clicks-per-second')
      const app = new App({
        id,
        broker,
        web: false,
        topicPartitions: PARTITIONS,
        processingGuarantee: 'exactly_once',
        stateDir: join(stateRoot, id),
        sessionTimeoutMs: 6_000,
        log: () => undefined,
      })
      const clicks = app.topic(input, { key: string, value: string })
      const closed = app.topic(output, { key: string, value: json<WindowValue<number>>() })
      const perSecond = app.windowedTable<string | null, number>('per-second', {
        windows: tumbling(1_000),
        initial: 0,
        closed,
        idleMs: 1_000,
      })
      app.agent(
        'count',
        clicks,
        async (stream) => {
          for await (const click of stream) perSecond.update(click.key, (n) => n + 1)
        },
        { tables: [perSecond] },
      )
      // Five seconds of clicks on six pages: page p gets p + 1 clicks in every second.
      const expected = new Map<string, number>()
      const records = []
      for (let second = 0; second < 5; second++)
        for (let page = 0; page < 6; page++)
          for (let n = 0; n <= page; n++) {
            records.push({
              topic: input,
              key: Buffer.from(`page-${page}`),
              value: Buffer.from('x'),
              timestamp: T0 + second * 1_000 + n * 10,
            })
            expected.set(`page-${page}@${second * 1_000}`, page + 1)
          }
      await app.start()
      try {
        const producer = transport.producer()
        await producer.send(records)
        await producer.close()
        const consumer = transport.consumer({ isolationLevel: 'read_committed' })
        await consumer.assign(
          Array.from({ length: PARTITIONS }, (_, partition) => ({
            topic: output,
            partition,
            from: 'earliest' as const,
          })),
        )
        // Every window of every page; the last second closes only by the idle timeout.
        const got = await pollUntil(consumer, (all) => all.length >= expected.size, 60_000)
        const more = await consumer.poll({ timeoutMs: 1_500 })
        await consumer.close()
        const emitted = [...got, ...more].map((r) => {
          const w = JSON.parse(r.value!.toString()) as WindowValue<number>
          assert.equal(r.timestamp, w.end, 'a closed window is stamped with its end')
          return [`${r.key!.toString()}@${w.start - T0}`, w.value] as const
        })
        assert.equal(emitted.length, expected.size, 'no window emitted twice')
        assert.deepEqual(new Map(emitted), expected)
        const configs = await transport.admin().describeConfigs(`${id}-per-second-changelog`)
        const config = new Map(configs.map((c) => [c.name, c.value]))
        assert.equal(config.get('cleanup.policy'), 'compact,delete')
        assert.equal(config.get('retention.ms'), String(1_000 + 24 * 60 * 60 * 1000))
      } finally {
        await app.stop()
      }
    })

    test("a windowed table's routes list each key's open windows with their values, and its entries", async () => {
      const id = unique('views')
      const input = unique('views-in')
      const app = new App({
        id,
        broker,
        web: { port: 0, host: '127.0.0.1' },
        topicPartitions: PARTITIONS,
        stateDir: join(stateRoot, id),
        commitIntervalMs: 100,
        sessionTimeoutMs: 6_000,
        log: () => undefined,
      })
      const views = app.topic(input, { key: string, value: string })
      const perMinute = app.windowedTable<string | null, number>('views-per-minute', {
        // Grace keeps the first minute open past the record at 1:01.
        windows: tumbling(60_000, { grace: 5 * 60_000 }),
        initial: 0,
      })
      app.agent(
        'count',
        views,
        async (stream) => {
          for await (const view of stream) perMinute.update(view.key, (n) => n + 1)
        },
        { tables: [perMinute] },
      )
      await app.start()
      try {
        const producer = transport.producer()
        await producer.send(
          [
            ['a', 1_000],
            ['a', 2_000],
            ['a', 61_000],
            ['b', 3_000],
          ].map(([key, time]) => ({
            topic: input,
            key: Buffer.from(key as string),
            value: Buffer.from('v'),
            timestamp: T0 + (time as number),
          })),
        )
        await producer.close()
        const url = `${app.opsUrl}/tables/views-per-minute`
        let body: { windows?: Array<{ window: { start: number; end: number }; value: number }> } = {}
        await waitUntil('both windows of a counted', async () => {
          const response = await fetch(`${url}/a`)
          body = (await response.json()) as typeof body
          return response.status === 200 && body.windows?.length === 2 && body.windows[1]!.value === 1
        })
        assert.deepEqual(
          body.windows!.map((w) => [w.window.start - T0, w.window.end - T0, w.value]),
          [
            [0, 60_000, 2],
            [60_000, 120_000, 1],
          ],
        )
        const listed = (await (await fetch(url)).json()) as {
          entries: Array<{ key: string; window: { start: number }; value: number }>
        }
        assert.deepEqual(
          listed.entries.map((e) => `${e.key}@${e.window.start - T0}=${e.value}`).sort(),
          ['a@0=2', 'a@60000=1', 'b@0=1'],
          "the listing shows windows only, not the tasks' stream time",
        )
        assert.equal((await fetch(`${url}/nobody`)).status, 404)
      } finally {
        await app.stop()
      }
    })
  })
}
