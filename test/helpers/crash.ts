/**
 * What the crash tests share: worker processes started from a fixture and SIGKILLed, the group's
 * committed input (to check that a kill landed mid-work), and reading a topic read_committed once
 * no transaction holds it back.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ConsumedRecord, Transport } from '../../src/transport/types.js'
import { testBroker } from './broker.js'
import { waitUntil } from './wait.js'

/**
 * Starts `fixture` with `env` (BROKER set) and resolves once it prints "ready". CRASH_LOGS=<dir>
 * keeps each worker's log there as `<logName>.log`.
 */
export function startWorker(
  fixture: string,
  env: Record<string, string>,
  logName: string,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, BROKER: testBroker(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let errors = ''
  child.stderr.on('data', (d: Buffer) => (errors += d.toString()))
  const logs = process.env.CRASH_LOGS
  if (logs) child.stderr.on('data', (d: Buffer) => appendFileSync(join(logs, `${logName}.log`), d))
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child)
    })
    child.once('exit', (code) =>
      reject(new Error(`the worker exited (${code}) before it was ready: ${errors}`)),
    )
  })
}

/** The input records a group has committed (the sum of its committed offsets). */
export async function committed(transport: Transport, group: string): Promise<number> {
  return (await transport.admin().listGroupOffsets(group)).reduce((n, o) => n + o.offset, 0)
}

/** Every record of a topic of committed transactions, once no transaction is open on it. */
export async function readCommitted(transport: Transport, topic: string): Promise<ConsumedRecord[]> {
  const isolationLevel = 'read_committed' as const
  // A killed worker's open transaction holds the last stable offset back until the broker aborts
  // it (the 10 s transaction timeout): wait until no transaction is open, then read to the end.
  let ends: Array<{ partition: number; offset: number }> = []
  await waitUntil(
    `no open transaction on ${topic}`,
    async () => {
      const stable = await transport.admin().listOffsets(topic, 'latest', { isolationLevel })
      const high = new Map(
        (await transport.admin().listOffsets(topic, 'latest')).map((o) => [o.partition, o.offset]),
      )
      ends = stable
      return stable.every((o) => o.offset === high.get(o.partition))
    },
    60_000,
  )
  const consumer = transport.consumer({ isolationLevel })
  await consumer.assign(ends.map(({ partition }) => ({ topic, partition, from: 'earliest' as const })))
  const records: ConsumedRecord[] = []
  const deadline = Date.now() + 120_000
  try {
    while (ends.some((e) => (consumer.position({ topic, partition: e.partition }) ?? 0) < e.offset)) {
      if (Date.now() > deadline) throw new Error(`${topic} was not read to its end in time`)
      records.push(...(await consumer.poll({ timeoutMs: 500, maxRecords: 10_000 })))
    }
  } finally {
    await consumer.close()
  }
  return records
}
