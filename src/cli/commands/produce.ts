/** `tributary produce <topic>`: one record per input line, batched, with an exact delivered count. */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { Readable, Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { Command } from 'commander'
import { TributaryError } from '../../errors.js'
import type { Acks, Compression, Headers, ProducerRecord, Transport } from '../../transport/types.js'
import { collect, parseAcks, parseCompression, parseHeaders, parseInteger } from '../args.js'
import { DEFAULT_TIMEOUT_MS } from '../broker.js'
import type { CliContext } from '../context.js'
import { EXIT_INTERRUPTED, EXIT_OK } from '../context.js'
import { countLines, chunkedLines } from '../lines.js'
import { asError, rate, seconds, write } from '../output.js'
import { checkPartition, describeExisting } from '../preflight.js'
import { createProgress } from '../progress.js'
import { BatchSender } from '../sender.js'

export interface ProduceOptions {
  topic: string
  /** Read lines from this file; absent: from the input stream (stdin). */
  file?: string
  /** Split each line at the first occurrence into key and value; `\t` stands for a tab. */
  keyDelimiter?: string
  /** One key for every record (a line is all value); not with keyDelimiter. */
  key?: string
  /** An empty value is sent as null: a tombstone on a compacted topic (kcat -Z). */
  nullValue?: boolean
  /** Raw `name=value` strings, added to every record. */
  headers?: string[]
  partition?: number
  /** @default 'all' */
  acks?: Acks
  /** @default 'none' */
  compression?: Compression
  /** Send one record every this many ms (a fixed rate, no drift). */
  frequencyMs?: number
  /** Stop after this many records; a shorter input simply ends first. */
  count?: number
  /** @default 500 */
  batchSize?: number
  /** Batches awaiting acknowledgement at once (1 when acks is not 'all'). @default 5 */
  maxInFlight?: number
  /** Safety timeout of the first broker round trip. @default 12000 */
  timeoutMs?: number
}

export interface ProduceIo {
  input: Readable
  /** Progress and the summary line (stderr). */
  err: Writable
  signal?: AbortSignal
  /** Receives the live account, for a report if the process is killed before it settles. */
  onSender?: (sender: BatchSender) => void
}

export interface ProduceSummary {
  accepted: number
  delivered: number
  failed: number
  interrupted: boolean
  elapsedMs: number
}

export async function produce(
  transport: Transport,
  options: ProduceOptions,
  io: ProduceIo,
): Promise<ProduceSummary> {
  const { topic } = options
  const delimiter = parseDelimiter(options.keyDelimiter)
  if (delimiter !== undefined && options.key !== undefined)
    throw new TributaryError(
      'INVALID_ARGUMENT',
      '--key gives every record the same key and --key-delimiter takes each key from its line: give one of them',
    )
  const headers = parseHeaders(options.headers ?? [])
  if (options.file !== undefined) await checkReadable(options.file)
  const [description] = await describeExisting(
    transport.admin(),
    [topic],
    options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    transport.url,
  )
  if (options.partition !== undefined && description) checkPartition(description, options.partition)
  const acks = options.acks ?? 'all'
  const producer = transport.producer({
    clientId: 'tributary-cli',
    acks,
    compression: options.compression ?? 'none',
  })
  const total = options.file !== undefined && isTty(io.err) ? await countLines(options.file) : undefined
  const progress = createProgress(
    io.err,
    total === undefined ? undefined : Math.min(total, options.count ?? total),
  )
  const sender = new BatchSender(producer, acks === 'all' ? (options.maxInFlight ?? 5) : 1, (n) =>
    progress.update(n),
  )
  io.onSender?.(sender)
  const signal = io.signal ?? new AbortController().signal
  const input = options.file !== undefined ? createReadStream(options.file) : io.input
  const stopReading = (): void => void input.destroy()
  signal.addEventListener('abort', stopReading, { once: true })
  if (signal.aborted) stopReading()
  const started = Date.now()
  let failure: unknown
  try {
    const fixedKey = options.key === undefined ? undefined : Buffer.from(options.key, 'utf8')
    await readAndSend(input, sender, { ...options, delimiter, fixedKey, headers, signal, started })
  } catch (error) {
    if (!signal.aborted) failure = error
  } finally {
    signal.removeEventListener('abort', stopReading)
    if (options.file !== undefined) input.destroy()
    await sender.drain()
    progress.stop()
    await producer.close().catch(() => undefined)
  }
  const elapsedMs = Date.now() - started
  const summary = { accepted: sender.accepted, delivered: sender.delivered, failed: sender.failed, elapsedMs }
  await report(io.err, topic, summary, signal.aborted)
  if (failure !== undefined) throw asError(failure)
  if (sender.failed > 0) {
    const cause = sender.firstError instanceof Error ? sender.firstError.message : String(sender.firstError)
    throw new TributaryError('KAFKA', `${sender.failed} records were not delivered to "${topic}": ${cause}`, {
      topic,
      cause: sender.firstError,
    })
  }
  return { ...summary, interrupted: signal.aborted }
}

interface Plan extends Omit<ProduceOptions, 'headers'> {
  delimiter: Buffer | undefined
  fixedKey?: Buffer | undefined
  headers: Headers
  signal: AbortSignal
  started: number
}

async function readAndSend(input: Readable, sender: BatchSender, plan: Plan): Promise<void> {
  const limit = plan.count ?? Infinity
  const batchSize = plan.frequencyMs !== undefined ? 1 : (plan.batchSize ?? 500)
  let batch: ProducerRecord[] = []
  let lineNumber = 0
  let taken = 0
  try {
    for await (const lines of chunkedLines(input as AsyncIterable<Buffer>)) {
      for (const line of lines) {
        lineNumber++
        // A refused batch stops the run: keep the account exact instead of piling up failures.
        if (taken >= limit || plan.signal.aborted || sender.firstError !== undefined) return
        if (plan.frequencyMs !== undefined)
          await sleepUntil(plan.started + taken * plan.frequencyMs, plan.signal)
        if (plan.signal.aborted) return
        batch.push(toRecord(line, lineNumber, plan))
        taken++
        if (batch.length >= batchSize) {
          await sender.send(batch)
          batch = []
        }
      }
      // The source paused (end of a chunk): send what we have rather than wait for a full batch.
      await sender.send(batch)
      batch = []
      if (taken >= limit) return
    }
  } finally {
    // Records already accepted (including those before a malformed line) are sent, never dropped.
    await sender.send(batch)
  }
}

function toRecord(line: Buffer, lineNumber: number, plan: Plan): ProducerRecord {
  const record: ProducerRecord = { topic: plan.topic, key: plan.fixedKey ?? null, value: line }
  if (plan.delimiter !== undefined) {
    const at = line.indexOf(plan.delimiter)
    if (at < 0) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Line ${lineNumber} has no key delimiter "${plan.keyDelimiter}"; every line must be key${plan.keyDelimiter}value ` +
          `(nothing from line ${lineNumber} on was sent)`,
        { topic: plan.topic },
      )
    }
    record.key = line.subarray(0, at)
    record.value = line.subarray(at + plan.delimiter.length)
  }
  if (plan.nullValue && (record.value as Buffer).length === 0) record.value = null
  if (plan.headers.length > 0) record.headers = plan.headers
  if (plan.partition !== undefined) record.partition = plan.partition
  return record
}

function parseDelimiter(text: string | undefined): Buffer | undefined {
  if (text === undefined) return undefined
  if (text === '') throw new TributaryError('INVALID_ARGUMENT', '--key-delimiter must not be empty')
  return Buffer.from(text === '\\t' ? '\t' : text, 'utf8')
}

async function checkReadable(file: string): Promise<void> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new TributaryError('INVALID_ARGUMENT', `Cannot read --file ${file}: ${error.code ?? error.message}`)
  })
  if (!info.isFile()) throw new TributaryError('INVALID_ARGUMENT', `--file ${file} is not a file`)
}

async function sleepUntil(due: number, signal: AbortSignal): Promise<void> {
  const wait = due - Date.now()
  if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined)
}

function isTty(stream: Writable): boolean {
  return (stream as Writable & { isTTY?: boolean }).isTTY === true
}

async function report(
  err: Writable,
  topic: string,
  s: Omit<ProduceSummary, 'interrupted'>,
  interrupted: boolean,
): Promise<void> {
  const notDelivered = s.accepted - s.delivered
  const timing = `in ${seconds(s.elapsedMs)} s (${rate(s.delivered, s.elapsedMs)} rec/s)`
  if (interrupted) {
    await write(
      err,
      `Interrupted: ${s.delivered} records delivered to ${topic}, ${notDelivered} not delivered, ${timing}\n`,
    )
  } else if (notDelivered > 0) {
    await write(
      err,
      `Produced ${s.delivered} of ${s.accepted} records to ${topic} (${notDelivered} not delivered) ${timing}\n`,
    )
  } else {
    await write(err, `Produced ${s.delivered} records to ${topic} ${timing}\n`)
  }
}

export function produceCommand(context: CliContext): Command {
  return new Command('produce')
    .description('send each line of stdin (or --file) as one record')
    .argument('<topic>', 'topic to write to (must exist)')
    .option('-f, --file <path>', 'read lines from this file instead of stdin')
    .option(
      '-K, --key-delimiter <text>',
      'split each line at the first <text> into key and value ("\\t" for tab)',
    )
    .option('-k, --key <key>', 'the same key for every record (each line is all value)')
    .option('-Z, --null-value', 'send an empty value as null: a tombstone on a compacted topic')
    .option('-H, --header <name=value>', 'header added to every record, repeatable', collect)
    .option('-p, --partition <n>', 'write every record to this partition (default: by key)', (t) =>
      parseInteger(t, '--partition'),
    )
    .option('--acks <acks>', 'acknowledgement: 0, 1 or all', parseAcks, 'all' as Acks)
    .option(
      '--compression <codec>',
      'none, gzip, snappy, lz4 or zstd',
      parseCompression,
      'none' as Compression,
    )
    .option('--frequency <ms>', 'send one record every <ms> milliseconds', (t) =>
      parseInteger(t, '--frequency', 1),
    )
    .option('-n, --count <n>', 'stop after <n> records (or at the end of input)', (t) =>
      parseInteger(t, '--count', 1),
    )
    .option('--batch-size <n>', 'records per request', (t) => parseInteger(t, '--batch-size', 1), 500)
    .addHelpText(
      'after',
      '\nLines are sent as they are read, in batches; a line without the key delimiter stops the run with\n' +
        'an error naming it. Ctrl-C stops reading, waits for the records already read to be acknowledged,\n' +
        'and prints how many were delivered (exit 130).\n\nExamples:\n' +
        '  $ tributary produce rides --file rides.csv --key-delimiter ,\n' +
        '  $ echo hello | tributary produce greetings\n' +
        '  $ tributary produce rides --file rides.csv --frequency 100 --count 50 --header source=cli\n' +
        "  $ printf 'vendor-1:\\n' | tributary produce vendor-totals -K : -Z   # a tombstone for vendor-1",
    )
    .action(async (topic: string, flags: ProduceFlags, command: Command) => {
      await context.client(command, async (transport, global, control) => {
        let sender: BatchSender | undefined
        control.onForcedExit(() =>
          sender === undefined
            ? 'nothing was sent yet'
            : `${sender.delivered} records delivered, ${sender.failed} failed, ${sender.pending} in flight (fate unknown)`,
        )
        const options: ProduceOptions = {
          topic,
          ...flags,
          headers: flags.header,
          frequencyMs: flags.frequency,
        }
        options.timeoutMs = global.timeout
        const io = {
          input: context.io.stdin,
          err: context.io.stderr,
          signal: control.signal,
          onSender: (s: BatchSender) => (sender = s),
        }
        if (flags.file === undefined && (context.io.stdin as { isTTY?: boolean }).isTTY === true) {
          context.io.stderr.write('Type one record per line; Ctrl-D ends the input.\n')
        }
        const summary = await produce(transport, options, io)
        return summary.interrupted ? EXIT_INTERRUPTED : EXIT_OK
      })
    })
}

interface ProduceFlags {
  file?: string
  keyDelimiter?: string
  key?: string
  nullValue?: boolean
  header?: string[]
  partition?: number
  acks: Acks
  compression: Compression
  frequency?: number
  count?: number
  batchSize: number
}
