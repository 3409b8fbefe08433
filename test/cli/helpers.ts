/** Shared by the CLI tests: an embedded broker per test, an output collector, and the CLI as a child process. */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { dirname, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { openTransport } from '../../src/transport/index.js'
import type { ConsumedRecord, Transport } from '../../src/transport/types.js'

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** A fresh embedded broker, private to the calling test. */
export function memoryTransport(): Transport {
  return openTransport(`memory://cli-${randomUUID()}`)
}

export function uniqueTopic(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

/** A Writable that keeps everything written to it. */
export class Collector extends Writable {
  readonly chunks: Buffer[] = []
  isTTY = false

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk))
    callback()
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8')
  }

  lines(): string[] {
    return this.text()
      .split('\n')
      .filter((line) => line !== '')
  }
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
}

/** Starts `node --import tsx src/cli/main.ts ...args`; the caller feeds stdin and may signal it. */
export function startCli(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  const started = Date.now()
  // The tests name the broker on the command line; an inherited TRIBUTARY_BROKER must not leak in.
  const childEnv: NodeJS.ProcessEnv = { ...process.env }
  delete childEnv.TRIBUTARY_BROKER
  // Worker logs are JSON lines off a terminal; the tests read the human ones unless they ask for JSON.
  childEnv.TRIBUTARY_LOG_FORMAT ??= 'human'
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: repo,
    env: { ...childEnv, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text))
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text))
  const done = new Promise<CliResult>((resolveDone) => {
    child.on('close', (code, signal) =>
      resolveDone({ code, signal, stdout, stderr, ms: Date.now() - started }),
    )
  })
  return { child, done }
}

/** Runs the CLI to completion with `input` (or nothing) on stdin. */
export async function runCli(
  args: string[],
  input?: string,
  env?: Record<string, string>,
): Promise<CliResult> {
  const { child, done } = startCli(args, env)
  child.stdin?.on('error', () => undefined)
  child.stdin?.end(input ?? '')
  return done
}

/** Reads every record of `topic` now in the log (all partitions, from the start), with no group. */
export async function readTopic(transport: Transport, topic: string): Promise<ConsumedRecord[]> {
  const admin = transport.admin()
  const ends = await admin.listOffsets(topic, 'latest')
  const total = ends.reduce((sum, p) => sum + p.offset, 0)
  const consumer = transport.consumer()
  try {
    await consumer.assign(ends.map(({ partition }) => ({ topic, partition, from: 'earliest' as const })))
    const records: ConsumedRecord[] = []
    const deadline = Date.now() + 30_000
    while (records.length < total && Date.now() < deadline)
      records.push(...(await consumer.poll({ timeoutMs: 200 })))
    return records
  } finally {
    await consumer.close()
  }
}
