/**
 * The window crash test on the real broker: a worker counts keyed records into tumbling minute
 * windows exactly once; it is SIGKILLed twice while three windows of every key are pending (each
 * kill checked to land mid-work) and restarted on the same state directory. Once all the input is
 * committed, records far later close the windows: each is emitted once, with its full count.
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { WindowValue } from '../../src/index.js'
import { openTransport } from '../../src/transport/index.js'
import { partitionForKey } from '../../src/transport/partitioner.js'
import { testBroker } from '../helpers/broker.js'
import { committed, readCommitted, startWorker } from '../helpers/crash.js'
import { waitUntil } from '../helpers/wait.js'

const fixture = join(import.meta.dirname, 'fixtures', 'window-worker.ts')
const T0 = Date.UTC(2024, 5, 1)
const KEYS = 20
const WINDOWS = 3
const PER_WINDOW = 500
const TOTAL = KEYS * WINDOWS * PER_WINDOW
const PARTITIONS = 6

test(
  'exactly-once: windows pending at two SIGKILLs are each emitted once after recovery, with their full counts',
  { timeout: 600_000 },
  async (t) => {
    const transport = openTransport(testBroker())
    const id = randomUUID().slice(0, 8)
    const appId = `windows-crash-${id}`
    const input = `windows-in-${id}`
    const output = `windows-out-${id}`
    const stateDir = mkdtempSync(join(tmpdir(), 'tributary-windows-crash-'))
    const env = { APP_ID: appId, IN: input, OUT: output, STATE_DIR: stateDir, SLOW_EVERY: '20' }
    let worker: ChildProcess | undefined
    try {
      await transport.admin().createTopics([
        { topic: input, partitions: PARTITIONS },
        { topic: output, partitions: PARTITIONS },
      ])
      // Records of the three minutes interleaved, in time order within each minute.
      const producer = transport.producer()
      const records = []
      for (let i = 0; i < PER_WINDOW; i++)
        for (let w = 0; w < WINDOWS; w++)
          for (let k = 0; k < KEYS; k++)
            records.push({
              topic: input,
              key: Buffer.from(`k${k}`),
              value: Buffer.from('1'),
              timestamp: T0 + w * 60_000 + i * 100,
            })
      for (let i = 0; i < records.length; i += 5_000) await producer.send(records.slice(i, i + 5_000))
      worker = await startWorker(fixture, env, appId)
      for (const share of [0.3, 0.65]) {
        const target = Math.floor(share * TOTAL)
        const alive = worker
        await waitUntil(
          `${target} input records committed`,
          async () => {
            if (alive.exitCode !== null) throw new Error('the worker died')
            return (await committed(transport, appId)) >= target
          },
          120_000,
        )
        alive.kill('SIGKILL')
        await once(alive, 'exit')
        const atKill = await committed(transport, appId)
        assert.ok(
          atKill >= target && atKill < TOTAL,
          `the kill landed mid-work: ${atKill} of ${TOTAL} committed`,
        )
        t.diagnostic(`killed at ${atKill} of ${TOTAL} committed`)
        worker = await startWorker(fixture, env, appId)
      }
      await waitUntil(
        'all the input committed',
        async () => (await committed(transport, appId)) === TOTAL,
        180_000,
      )
      assert.deepEqual(await readCommitted(transport, output), [], 'no window closed while input flowed')
      // A record far later on every partition: stream time passes every window and its grace.
      const closers = []
      for (let p = 0, i = 0; closers.length < PARTITIONS; i++) {
        const key = `closer-${i}`
        if (partitionForKey(Buffer.from(key), PARTITIONS) !== p) continue
        closers.push({
          topic: input,
          key: Buffer.from(key),
          value: Buffer.from('1'),
          timestamp: T0 + 30 * 60_000,
        })
        p++
      }
      await producer.send(closers)
      await producer.close()
      await waitUntil(
        'every window emitted',
        async () => (await readCommitted(transport, output)).length >= KEYS * WINDOWS,
        120_000,
      )
      worker.kill('SIGTERM')
      await once(worker, 'exit')
      const emitted = (await readCommitted(transport, output)).map((r) => {
        const w = JSON.parse(r.value!.toString()) as WindowValue<number>
        return `${r.key!.toString()}@${(w.start - T0) / 60_000}=${w.value}`
      })
      const expected = []
      for (let k = 0; k < KEYS; k++)
        for (let w = 0; w < WINDOWS; w++) expected.push(`k${k}@${w}=${PER_WINDOW}`)
      assert.deepEqual(emitted.sort(), expected.sort(), 'each window once, with its full count')
    } finally {
      if (worker && worker.exitCode === null) worker.kill('SIGKILL')
      await transport.close()
      rmSync(stateDir, { recursive: true, force: true })
    }
  },
)
