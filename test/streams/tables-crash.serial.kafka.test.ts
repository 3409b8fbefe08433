/**
 * Table crash tests on the real broker: a worker process counts 200,000 keyed events (1,000 keys)
 * into a table and writes each new count to an output topic; it is SIGKILLed at five random points
 * of its work (each kill checked to land mid-work: some but not all input committed) and restarted
 * on the same state directory each time.
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { openTransport } from '../../src/transport/index.js'
import type { Transport } from '../../src/transport/types.js'
import { testBroker } from '../helpers/broker.js'
import { committed, readCommitted, startWorker } from '../helpers/crash.js'
import { waitUntil } from '../helpers/wait.js'

const fixture = join(import.meta.dirname, 'fixtures', 'count-worker.ts')
const KEYS = 1_000
const PER_KEY = 200
const TOTAL = KEYS * PER_KEY
const KILLS = 5

interface Run {
  appId: string
  input: string
  output: string
  stateDir: string
  env: Record<string, string>
}

function startCounter(run: Run, workerId = 'counter', stateDir = run.stateDir): Promise<ChildProcess> {
  return startWorker(
    fixture,
    {
      APP_ID: run.appId,
      IN: run.input,
      OUT: run.output,
      WORKER_ID: workerId,
      STATE_DIR: stateDir,
      ...run.env,
    },
    `${run.appId}-${workerId}`,
  )
}

async function produce(transport: Transport, topic: string): Promise<void> {
  const producer = transport.producer()
  let batch = []
  for (let seq = 0; seq < PER_KEY; seq++) {
    for (let k = 0; k < KEYS; k++)
      batch.push({ topic, key: Buffer.from(`k${k}`), value: Buffer.from(`${seq}`) })
    if (batch.length >= 10_000) {
      await producer.send(batch)
      batch = []
    }
  }
  if (batch.length > 0) await producer.send(batch)
  await producer.close()
}

/** Every record of a topic (read_committed: those of committed transactions only), as [key, number]. */
async function readAll(transport: Transport, topic: string): Promise<Array<[string, number]>> {
  return (await readCommitted(transport, topic)).map((r) => [r.key!.toString(), Number(r.value!.toString())])
}

/** The exact-counts checks of exactly-once: every key at the truth, each count once in the committed output. */
function assertExact(table: Map<string, number>, outputs: Map<string, number[]>): void {
  assert.equal(table.size, KEYS)
  for (let k = 0; k < KEYS; k++) {
    const key = `k${k}`
    assert.equal(table.get(key), PER_KEY, `${key}: the table's count`)
    assert.deepEqual(
      outputs.get(key) ?? [],
      Array.from({ length: PER_KEY }, (_, i) => i + 1),
      `${key}: each count once, in order, in the committed output`,
    )
  }
}

async function results(transport: Transport, run: Run) {
  const table = new Map(await readAll(transport, `${run.appId}-counts-changelog`))
  const outputs = new Map<string, number[]>()
  for (const [key, count] of await readAll(transport, run.output)) {
    const list = outputs.get(key) ?? []
    list.push(count)
    outputs.set(key, list)
  }
  return { table, outputs }
}

function newRun(env: Record<string, string>): Run {
  const id = randomUUID().slice(0, 8)
  return {
    appId: `crash-${id}`,
    input: `crash-in-${id}`,
    output: `crash-out-${id}`,
    stateDir: mkdtempSync(join(tmpdir(), 'tributary-crash-')),
    // Slowed a little and committing often: the kills land between commits, with work in flight.
    env: { SLOW_EVERY: '50', COMMIT_MS: '200', ...env },
  }
}

async function setUp(transport: Transport, run: Run): Promise<void> {
  await transport.admin().createTopics([
    { topic: run.input, partitions: 6 },
    { topic: run.output, partitions: 6 },
  ])
  await produce(transport, run.input)
}

/** Runs the counter through five SIGKILLs and a final graceful stop; returns the table and the outputs. */
async function crashRun(t: TestContext, env: Record<string, string>) {
  const transport = openTransport(testBroker())
  const run = newRun(env)
  let worker: ChildProcess | undefined
  try {
    await setUp(transport, run)
    worker = await startCounter(run)
    for (let i = 0; i < KILLS; i++) {
      // A random point in the i-th sixth of the input.
      const target = Math.floor(((i + 0.2 + Math.random() * 0.6) / (KILLS + 1)) * TOTAL)
      const alive = worker
      await waitUntil(
        `${target} input records committed`,
        async () => {
          if (alive.exitCode !== null) throw new Error('the worker died')
          return (await committed(transport, run.appId)) >= target
        },
        120_000,
      )
      alive.kill('SIGKILL')
      await once(alive, 'exit')
      const atKill = await committed(transport, run.appId)
      assert.ok(
        atKill >= target && atKill < TOTAL,
        `kill ${i + 1} landed mid-work: ${atKill} of ${TOTAL} committed`,
      )
      t.diagnostic(`kill ${i + 1}: ${atKill} of ${TOTAL} input records committed`)
      worker = await startCounter(run)
    }
    await waitUntil(
      'all the input committed',
      async () => (await committed(transport, run.appId)) === TOTAL,
      180_000,
    )
    worker.kill('SIGTERM')
    const [code] = (await once(worker, 'exit')) as [number | null]
    assert.equal(code, 0, 'the last worker stopped gracefully')
    const { table, outputs } = await results(transport, run)
    return { table, outputs }
  } finally {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL')
    await transport.close()
    rmSync(run.stateDir, { recursive: true, force: true })
  }
}

test(
  'at-least-once: a table counter SIGKILLed five times mid-work never counts below the truth, and reports its excess',
  { timeout: 600_000 },
  async (t) => {
    const { table, outputs } = await crashRun(t, { STORE: 'lmdb://' })
    assert.equal(table.size, KEYS)
    let excess = 0
    let repeated = 0
    for (let k = 0; k < KEYS; k++) {
      const key = `k${k}`
      const count = table.get(key)!
      assert.ok(count >= PER_KEY, `${key}: counted ${count}, below the truth ${PER_KEY}`)
      excess += count - PER_KEY
      const seen = outputs.get(key) ?? []
      const distinct = new Set(seen)
      for (let n = 1; n <= PER_KEY; n++)
        assert.ok(distinct.has(n), `${key}: count ${n} never reached the output`)
      repeated += seen.length - distinct.size
    }
    t.diagnostic(
      `excess over the truth: ${excess} counts in all (${((excess / TOTAL) * 100).toFixed(2)}% of ${TOTAL}); ` +
        `${repeated} counts written to the output more than once`,
    )
  },
)

test(
  'exactly-once: a table counter SIGKILLed five times mid-work ends with the exact counts, and its output holds no duplicate',
  { timeout: 600_000 },
  async (t) => {
    const { table, outputs } = await crashRun(t, { GUARANTEE: 'exactly_once', STORE: 'lmdb://' })
    assertExact(table, outputs)
  },
)

test(
  'exactly-once: two workers, a third joining at a third of the input and one SIGKILLed mid-transaction past half: exact counts, and no other worker stops',
  { timeout: 600_000 },
  async (t) => {
    const transport = openTransport(testBroker())
    // Slower than the one-worker runs (three workers share the work): the kill must find work left.
    const run = newRun({ GUARANTEE: 'exactly_once', STORE: 'lmdb://', SLOW_EVERY: '10' })
    const workers = new Map<string, ChildProcess>()
    const start = async (id: string): Promise<void> => {
      workers.set(id, await startCounter(run, id, join(run.stateDir, id)))
    }
    const progress = (what: string, share: number) =>
      waitUntil(what, async () => (await committed(transport, run.appId)) >= share * TOTAL, 180_000)
    try {
      await setUp(transport, run)
      await start('a')
      await start('b')
      await progress('a third of the input committed', 1 / 3)
      await start('c')
      await progress('more than half of the input committed', 0.55)
      const a = workers.get('a')!
      a.kill('SIGKILL')
      await once(a, 'exit')
      const atKill = await committed(transport, run.appId)
      assert.ok(atKill < TOTAL, `the kill landed mid-work: ${atKill} of ${TOTAL} committed`)
      t.diagnostic(`worker a killed at ${atKill} of ${TOTAL} committed`)
      await waitUntil(
        'all the input committed',
        async () => {
          for (const id of ['b', 'c'])
            if (workers.get(id)!.exitCode !== null) throw new Error(`worker ${id} stopped`)
          return (await committed(transport, run.appId)) === TOTAL
        },
        240_000,
      )
      for (const id of ['b', 'c']) {
        const worker = workers.get(id)!
        assert.equal(worker.exitCode, null, `worker ${id} kept running`)
        worker.kill('SIGTERM')
        const [code] = (await once(worker, 'exit')) as [number | null]
        assert.equal(code, 0, `worker ${id} stopped gracefully`)
      }
      const { table, outputs } = await results(transport, run)
      assertExact(table, outputs)
    } finally {
      for (const w of workers.values()) if (w.exitCode === null) w.kill('SIGKILL')
      await transport.close()
      rmSync(run.stateDir, { recursive: true, force: true })
    }
  },
)
