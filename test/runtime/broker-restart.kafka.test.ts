/**
 * Two worker processes through broker outages, on a private broker (the shared one is never
 * touched): stopped gracefully for 60 s mid-stream, then SIGKILLed and restarted. The workers must
 * keep running (a pause, not a stopped worker), resume within seconds of the broker answering, and
 * every input record must reach the output (at-least-once: none lost).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { test } from 'node:test'
import { TributaryError } from '../../src/errors.js'
import { openTransport } from '../../src/transport/index.js'
import type { Transport } from '../../src/transport/types.js'
import { PrivateBroker } from '../helpers/private-broker.js'

const fixture = join(import.meta.dirname, 'fixtures', 'relay-worker.ts')
const OUTAGE_MS = 60_000
/** How soon after the broker answers the workers must be producing outputs again. */
const RESUME_MS = 30_000

function startWorker(broker: string, appId: string, input: string, output: string, id: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, APP_ID: appId, IN: input, OUT: output, BROKER: broker, WORKER_ID: id },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stderr.on('data', (d: Buffer) => (log += d.toString()))
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve()
    })
    child.once('exit', (code) =>
      reject(new Error(`worker ${id} exited (${code}) before it was ready: ${log}`)),
    )
  })
  return { child, ready, log: () => log }
}

async function until(what: string, done: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now()
  while (!done()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return Date.now() - started
}

/** Produces `count` records numbered from `from`, retrying a batch the broker did not take. */
async function produce(transport: Transport, topic: string, from: number, count: number): Promise<void> {
  const producer = transport.producer()
  for (let i = from; i < from + count; i += 500) {
    const batch = []
    for (let n = i; n < Math.min(i + 500, from + count); n++)
      batch.push({ topic, key: Buffer.from(`k${n % 60}`), value: Buffer.from(`r${n}`) })
    // The outage can outlast the producer's delivery timeout on a loaded machine: send the batch
    // again (outputs are compared as a set, so a batch written twice changes nothing).
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.send(batch)
        break
      } catch (error) {
        const transient =
          error instanceof TributaryError && (error.code === 'BROKER_UNREACHABLE' || error.code === 'TIMEOUT')
        if (!transient || attempt >= 5) throw error
      }
    }
  }
  await producer.close()
}

test(
  'two workers ride out a 60 s graceful stop and a SIGKILL of the broker, and every record has its output',
  { timeout: 290_000 },
  async (t) => {
    const broker = new PrivateBroker()
    const workers: Array<ReturnType<typeof startWorker>> = []
    let transport: Transport | undefined
    let reader: Transport | undefined
    const outputs = new Set<string>()
    let reading = true
    let readLoop: Promise<void> | undefined
    try {
      await broker.start()
      const id = randomUUID().slice(0, 8)
      const [appId, input, output] = [`restart-${id}`, `restart-in-${id}`, `restart-out-${id}`]
      transport = openTransport(broker.url)
      await transport.admin().createTopics([
        { topic: input, partitions: 6 },
        { topic: output, partitions: 6 },
      ])
      workers.push(
        startWorker(broker.url, appId, input, output, 'a'),
        startWorker(broker.url, appId, input, output, 'b'),
      )
      await Promise.all(workers.map((w) => w.ready))
      // An independent reader of the output topic: it rides the outages too.
      reader = openTransport(broker.url)
      const consumer = reader.consumer()
      await consumer.assign(
        Array.from({ length: 6 }, (_, partition) => ({
          topic: output,
          partition,
          from: 'earliest' as const,
        })),
      )
      readLoop = (async () => {
        while (reading) {
          try {
            for (const r of await consumer.poll({ timeoutMs: 200 }))
              outputs.add(r.value!.toString().split('|')[0]!)
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 200))
          }
        }
      })()

      await produce(transport, input, 0, 20_000)
      await until('outputs flowing before the outage', () => outputs.size >= 2_000, 60_000)
      t.diagnostic(`graceful stop with ${outputs.size} of 20,000 outputs in`)
      await broker.stop()
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS))
      for (const w of workers)
        assert.equal(w.child.exitCode, null, `worker alive through the outage: ${w.log()}`)
      await broker.start()
      // New input once the broker answers: how long until the workers turn it into output?
      let answered = Date.now()
      await produce(transport, input, 20_000, 10_000)
      const resumed = await until(
        'outputs of new input after the restart',
        () => outputs.has('r20000') || [...outputs].some((o) => Number(o.slice(1)) >= 20_000),
        RESUME_MS,
      )
      t.diagnostic(
        `after the 60 s stop, new input had its first output ${Date.now() - answered} ms after the broker answered (${resumed} ms after it was produced)`,
      )
      await until('all 30,000 outputs', () => outputs.size >= 30_000, 120_000)

      await broker.kill()
      await broker.start()
      answered = Date.now()
      await produce(transport, input, 30_000, 10_000)
      await until(
        'outputs of new input after the SIGKILL',
        () => [...outputs].some((o) => Number(o.slice(1)) >= 30_000),
        RESUME_MS,
      )
      t.diagnostic(
        `after the SIGKILL and restart, new input had its first output ${Date.now() - answered} ms after the broker answered`,
      )
      await until('all 40,000 outputs', () => outputs.size >= 40_000, 120_000)
      for (let n = 0; n < 40_000; n++) assert.ok(outputs.has(`r${n}`), `r${n} has an output`)
      for (const w of workers) assert.equal(w.child.exitCode, null, `worker still running: ${w.log()}`)
    } catch (error) {
      for (const [i, w] of workers.entries()) t.diagnostic(`worker ${i} log:\n${w.log()}`)
      throw error
    } finally {
      reading = false
      await readLoop
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL')
      await reader?.close().catch(() => undefined)
      await transport?.close().catch(() => undefined)
      await broker.remove()
    }
  },
)
