/**
 * The task assignor on the real broker: two workers of the README's app (rides re-keyed by vendor
 * through a repartition topic) keep partition p of both topics on one worker, and log each
 * generation's assignment in one line.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { App, json, string } from '../../src/index.js'
import type { TopicPartition } from '../../src/transport/types.js'
import { testBroker } from '../helpers/broker.js'

type Ride = { VendorID: string; total_amount: number; trip_distance: number }

function readmeApp(id: string, logs: string[]): App {
  const app = new App({
    id,
    broker: testBroker(),
    web: false,
    sessionTimeoutMs: 6_000,
    log: (level, message) => {
      if (level === 'info') logs.push(message)
    },
  })
  const rides = app.topic(`rides-${id}`, { key: string, value: json<Ride>(), partitions: 6 })
  const high = app.topic(`rides-high-${id}`, { key: string, value: json<Ride>() })
  app.agent('price', rides.stream().branch([[(r) => r.total_amount >= 40, high]]), async (stream) => {
    for await (const _ of stream);
  })
  app.agent(
    'by-vendor',
    rides.stream().groupBy((r) => r.VendorID, { name: 'by-vendor', key: string }),
    async (stream) => {
      for await (const _ of stream);
    },
  )
  return app
}

const names = (tps: TopicPartition[]): string[] => tps.map((tp) => `${tp.topic}[${tp.partition}]`).sort()

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

test('two workers of the README app keep rides[p] and its repartition topic [p] on the same worker', async () => {
  const id = `coloc-${randomUUID().slice(0, 8)}`
  const logs: [string[], string[]] = [[], []]
  const apps: [App, App] = [readmeApp(id, logs[0]), readmeApp(id, logs[1])]
  const rides = `rides-${id}`
  const repartition = `${id}-by-vendor-repartition`
  try {
    const [a, b] = [await apps[0].start(), await apps[1].start()]
    const settled = (): boolean => {
      const all = [...a.assignment(), ...b.assignment()]
      return (
        all.length === 12 &&
        new Set(names(all)).size === 12 &&
        a.assignment().length > 0 &&
        b.assignment().length > 0
      )
    }
    await until('both workers to share all 12 partitions', settled)
    for (const worker of [a, b]) {
      const mine = new Set(names(worker.assignment()))
      for (let p = 0; p < 6; p++) {
        assert.equal(
          mine.has(`${rides}[${p}]`),
          mine.has(`${repartition}[${p}]`),
          `partition ${p}: ${rides} and ${repartition} on different workers (${[...mine].join(' ')})`,
        )
      }
      assert.equal(mine.size, 6, 'three partitions of each topic per worker')
    }
    for (const lines of logs) {
      assert.ok(
        lines.some((l) => /generation \d+.* assigns .*\[/.test(l)),
        `each worker logs its assignment in one line:\n${lines.join('\n')}`,
      )
    }
  } finally {
    await Promise.all(apps.map((app) => app.stop()))
  }
})
