/**
 * Worker processes of one app on the real broker: scale-out, SIGKILL and restart (at-least-once,
 * duplicates only from the killed worker's uncommitted range), and SIGTERM (no duplicates).
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { join } from 'node:path'
import { test } from 'node:test'
import { openTransport } from '../../src/transport/index.js'
import type { ConsumedRecord, Transport } from '../../src/transport/types.js'
import { testBroker } from '../helpers/broker.js'

const fixture = join(import.meta.dirname, 'fixtures', 'relay-worker.ts')

interface Run {
  appId: string
  input: string
  output: string
}

function startWorker(run: Run, workerId: string, extra: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: {
      ...process.env,
      APP_ID: run.appId,
      IN: run.input,
      OUT: run.output,
      BROKER: testBroker(),
      WORKER_ID: workerId,
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let errors = ''
  child.stderr.on('data', (d: Buffer) => (errors += d.toString()))
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child)
    })
    child.once('exit', (code) =>
      reject(new Error(`worker ${workerId} exited (${code}) before it was ready: ${errors}`)),
    )
  })
}

async function produce(
  transport: Transport,
  topic: string,
  keys: number,
  perKey: number,
  from = 0,
): Promise<void> {
  const producer = transport.producer()
  for (let seq = from; seq < from + perKey; seq += 10) {
    const batch = []
    for (let s = seq; s < Math.min(seq + 10, from + perKey); s++) {
      for (let k = 0; k < keys; k++)
        batch.push({ topic, key: Buffer.from(`k${k}`), value: Buffer.from(`k${k}:${s}`) })
    }
    await producer.send(batch)
  }
}

/** Reads the output topic until `distinct` different inputs were seen; returns records in offset order per partition. */
async function readOutputs(
  transport: Transport,
  topic: string,
  distinct: number,
  timeoutMs: number,
): Promise<ConsumedRecord[]> {
  const consumer = transport.consumer()
  await consumer.assign(
    Array.from({ length: 6 }, (_, partition) => ({ topic, partition, from: 'earliest' as const })),
  )
  const records: ConsumedRecord[] = []
  const inputs = new Set<string>()
  const deadline = Date.now() + timeoutMs
  try {
    while (inputs.size < distinct) {
      if (Date.now() > deadline) throw new Error(`only ${inputs.size} of ${distinct} inputs reached ${topic}`)
      for (const r of await consumer.poll({ timeoutMs: 500 })) {
        records.push(r)
        inputs.add(r.value!.toString().split('|')[0]!)
      }
    }
    // A little longer, so that late duplicates are counted too.
    const settle = Date.now() + 1_500
    while (Date.now() < settle) records.push(...(await consumer.poll({ timeoutMs: 300 })))
    return records
  } finally {
    await consumer.close()
  }
}

async function createTopics(transport: Transport, run: Run): Promise<void> {
  await transport.admin().createTopics([
    { topic: run.input, partitions: 6 },
    { topic: run.output, partitions: 6 },
  ])
}

test('two worker processes share six partitions; a SIGKILLed worker restarts and loses nothing, and duplicates come only from uncommitted ranges', async (t) => {
  const transport = openTransport(testBroker())
  const id = randomUUID().slice(0, 8)
  const run: Run = { appId: `scale-${id}`, input: `scale-in-${id}`, output: `scale-out-${id}` }
  await createTopics(transport, run)
  const workers: ChildProcess[] = []
  try {
    // Slowed down and committing every 2 s, so that the kill lands in the middle of uncommitted work.
    const slow = { SLOW_EVERY: '5', COMMIT_MS: '2000' }
    workers.push(await startWorker(run, 'a', slow), await startWorker(run, 'b', slow))
    await produce(transport, run.input, 100, 500) // 50,000
    // Kill worker a while it is busy, and read what it had committed at that instant.
    await new Promise((r) => setTimeout(r, 3_000))
    workers[0]!.kill('SIGKILL')
    await once(workers[0]!, 'exit')
    const committedAtKill = new Map(
      (await transport.admin().listGroupOffsets(run.appId)).map((o) => [o.partition, o.offset]),
    )
    await produce(transport, run.input, 100, 500, 500) // 50,000 more
    workers.push(await startWorker(run, 'a2'))

    const outputs = await readOutputs(transport, run.output, 100_000, 180_000)
    const byInput = new Map<string, Array<{ partition: number; offset: number; worker: string }>>()
    const perKey = new Map<string, number[]>()
    for (const r of outputs) {
      const [input, partition, offset, worker] = r.value!.toString().split('|') as [
        string,
        string,
        string,
        string,
      ]
      const list = byInput.get(input) ?? []
      list.push({ partition: Number(partition), offset: Number(offset), worker })
      byInput.set(input, list)
      const [key, seq] = input.split(':') as [string, string]
      const seqs = perKey.get(key) ?? []
      seqs.push(Number(seq))
      perKey.set(key, seqs)
    }
    assert.equal(byInput.size, 100_000, 'every record has an output')
    for (const [key, seqs] of perKey) {
      // Per-key order: the first time each seq appears, it is the next one (a replay re-runs a range).
      let expected = 0
      for (const seq of seqs) {
        if (seq === expected) expected++
        else assert.ok(seq < expected, `${key}: ${seq} came before ${expected}`)
      }
      assert.equal(expected, 1_000, `${key}: all 1,000 in order`)
    }
    const duplicated = [...byInput.entries()].filter(([, list]) => list.length > 1)
    // Duplicates from the kill: first processed by the killed worker, at or after what it had
    // committed. None from the hand-over when the restarted worker joined: a partition moves away
    // from a live worker only after its onRevoked committed what it processed (kafka:// group.ts).
    let fromKill = 0
    let fromHandOver = 0
    for (const [input, list] of duplicated) {
      const first = list[0]!
      if (first.worker === 'a') {
        const committed = committedAtKill.get(first.partition) ?? 0
        assert.ok(
          first.offset >= committed,
          `${input} at offset ${first.offset} was committed (${committed}) yet processed again`,
        )
        fromKill++
      } else {
        assert.ok(
          list.slice(1).every((o) => o.worker !== first.worker),
          `${input} processed twice by the live worker ${first.worker}`,
        )
        fromHandOver++
      }
    }
    t.diagnostic(
      `duplicates: ${fromKill} from the killed worker's uncommitted range, ${fromHandOver} from the hand-over to the restarted worker`,
    )
    // The kill must have landed mid-work: the killed worker had processed (and produced outputs
    // for) records past what its group had committed, or this test would prove nothing.
    let pastCommit = 0
    for (const list of byInput.values()) {
      for (const o of list)
        if (o.worker === 'a' && o.offset >= (committedAtKill.get(o.partition) ?? 0)) pastCommit++
    }
    t.diagnostic(`the killed worker had processed ${pastCommit} records past its committed offsets`)
    assert.ok(pastCommit > 0, 'the kill landed while the worker had uncommitted work in hand')
    assert.equal(fromHandOver, 0, 'no hand-over duplicates: the live worker committed in onRevoked')
    const extra = outputs.length - byInput.size
    const perWorker = new Map<string, number>()
    for (const list of byInput.values())
      for (const o of list) perWorker.set(o.worker, (perWorker.get(o.worker) ?? 0) + 1)
    t.diagnostic(`outputs per worker: ${[...perWorker].map(([w, n]) => `${w}=${n}`).join(' ')}`)
    assert.ok(
      (perWorker.get('a') ?? 0) > 0 && (perWorker.get('b') ?? 0) > 0,
      'both workers processed records',
    )
    t.diagnostic(
      `outputs ${outputs.length} for 100,000 inputs: ${duplicated.length} inputs duplicated (${extra} extra outputs)`,
    )
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL')
    await transport.close()
  }
})

test('SIGTERM stops a worker gracefully: after a restart no record is processed twice', async () => {
  const transport = openTransport(testBroker())
  const id = randomUUID().slice(0, 8)
  const run: Run = { appId: `term-${id}`, input: `term-in-${id}`, output: `term-out-${id}` }
  await createTopics(transport, run)
  try {
    const first = await startWorker(run, 'first')
    await produce(transport, run.input, 20, 250) // 5,000
    await new Promise((r) => setTimeout(r, 500))
    first.kill('SIGTERM')
    const [code] = (await once(first, 'exit')) as [number | null]
    assert.equal(code, 0, 'graceful exit')
    await produce(transport, run.input, 20, 250, 250) // 5,000 more
    const second = await startWorker(run, 'second')
    try {
      const outputs = await readOutputs(transport, run.output, 10_000, 120_000)
      const inputs = outputs.map((r) => r.value!.toString().split('|')[0])
      assert.equal(new Set(inputs).size, 10_000)
      assert.equal(outputs.length, 10_000, 'no record processed twice')
    } finally {
      second.kill('SIGTERM')
      await once(second, 'exit')
    }
  } finally {
    await transport.close()
  }
})
