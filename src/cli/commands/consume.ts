/** `tributary consume <topic...>`: prints records; with a group, commits what it printed (at-least-once). */
import type { Writable } from 'node:stream'
import { Command } from 'commander'
import { TributaryError } from '../../errors.js'
import type {
  Admin,
  ConsumedRecord,
  Consumer,
  IsolationLevel,
  TopicPartition,
  TopicPartitionOffset,
  Transport,
} from '../../transport/types.js'
import { parseFrom, parseInteger, parseIsolation } from '../args.js'
import type { From } from '../args.js'
import { DEFAULT_TIMEOUT_MS } from '../broker.js'
import type { CliContext } from '../context.js'
import { EXIT_INTERRUPTED, EXIT_OK } from '../context.js'
import { asError, write } from '../output.js'
import { endOffsets, resolveFrom, tpKey } from '../positions.js'
import { checkPartition, describeExisting } from '../preflight.js'
import { formatRecord } from '../records.js'
import type { RecordFormat } from '../records.js'

export interface ConsumeOptions {
  topics: string[]
  /** Consumer group: subscribe and commit. Absent: read all partitions with no group at all. */
  group?: string
  /** Where partitions without a committed offset start (without a group: all of them). @default 'end' */
  from?: From
  /** Read only this partition (one topic only). */
  partition?: number
  /** Exit after printing this many records. */
  count?: number
  /** Exit once every partition reached the log end offset it had when the command started. */
  exitAtEnd?: boolean
  /** @default 'text' */
  format?: RecordFormat
  printKey?: boolean
  /** @default 'read_uncommitted' */
  isolation?: IsolationLevel
  /** @default 5000 */
  commitIntervalMs?: number
  /** @default 1000 */
  pollTimeoutMs?: number
  /** Safety timeout of the first broker round trip. @default 12000 */
  timeoutMs?: number
}

export interface ConsumeIo {
  /** Records (stdout). */
  out: Writable
  /** Warnings and the summary line (stderr). */
  err: Writable
  signal?: AbortSignal
}

export type StopReason = 'count' | 'end' | 'interrupted' | 'output-closed'

export interface ConsumeSummary {
  consumed: number
  reason: StopReason
}

/**
 * --exit-at-end compares read positions with the end offsets, but the last offsets of a partition may
 * hold no record we will ever see (transaction markers, aborted records under read_committed). So a
 * consumer that owns partitions and has received nothing for this long also counts as caught up.
 */
const IDLE_AT_END_MS = 3000

export async function consume(
  transport: Transport,
  options: ConsumeOptions,
  io: ConsumeIo,
): Promise<ConsumeSummary> {
  const { topics, group } = options
  if (topics.length === 0) throw new TributaryError('INVALID_ARGUMENT', 'Name at least one topic to consume')
  if (options.partition !== undefined && topics.length !== 1) {
    throw new TributaryError('INVALID_ARGUMENT', '--partition needs exactly one topic')
  }
  const admin = transport.admin()
  const descriptions = await describeExisting(
    admin,
    topics,
    options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    transport.url,
  )
  if (options.partition !== undefined && descriptions[0]) checkPartition(descriptions[0], options.partition)
  const all = descriptions.flatMap((d) =>
    d.partitions.map((p) => ({ topic: d.topic, partition: p.partition })),
  )
  const wanted =
    options.partition === undefined ? all : all.filter((tp) => tp.partition === options.partition)
  const from = options.from ?? 'end'
  const session = new Session(transport, admin, options, io, from)
  if (options.exitAtEnd) session.ends = await endOffsets(admin, wanted)
  try {
    // A group with --partition still assigns by hand: the group only stores the offsets.
    if (group === undefined || options.partition !== undefined) await session.assign(wanted)
    else await session.subscribe()
    const reason = await session.run()
    await session.commit(true)
    await write(
      io.err,
      `Consumed ${session.printed} records${group === undefined ? '' : ` (group ${group})`}.\n`,
    )
    return { consumed: session.printed, reason }
  } catch (error) {
    // Still commit what reached the output: it was printed, so it must not be printed again.
    await session.commit(true).catch(() => undefined)
    throw error
  } finally {
    await session.consumer.close().catch(() => undefined)
  }
}

/** One run's state: read positions, what was printed and not yet committed, the ends to reach. */
class Session {
  readonly consumer: Consumer
  ends: Map<string, number> | undefined
  printed = 0
  private readonly positions = new Map<string, number>()
  private readonly uncommitted = new Map<string, TopicPartitionOffset>()
  private failure: unknown
  private outputClosed = false
  private lastCommit = Date.now()

  constructor(
    transport: Transport,
    private readonly admin: Admin,
    private readonly options: ConsumeOptions,
    private readonly io: ConsumeIo,
    private readonly from: From,
  ) {
    this.consumer = transport.consumer({
      groupId: options.group,
      clientId: 'tributary-cli',
      isolationLevel: options.isolation ?? 'read_uncommitted',
      offsetReset: from === 'beginning' ? 'earliest' : 'latest',
    })
    io.out.on('error', () => (this.outputClosed = true))
  }

  async assign(partitions: TopicPartition[]): Promise<void> {
    const starts = await this.startsFor(partitions)
    await this.consumer.assign(
      starts.map((s) => ({ topic: s.topic, partition: s.partition, from: s.offset })),
    )
  }

  async subscribe(): Promise<void> {
    await this.consumer.subscribe(this.options.topics, {
      onAssigned: async (partitions) => {
        try {
          for (const start of await this.startsFor(partitions)) this.consumer.seek(start)
        } catch (error) {
          this.failure ??= error
        }
      },
      onRevoked: async (partitions) => {
        // Last chance to commit what we printed from these partitions before another member owns them.
        const revoked = new Set(partitions.map(tpKey))
        const offsets = [...this.uncommitted.values()].filter((o) => revoked.has(tpKey(o)))
        if (offsets.length > 0)
          await this.consumer.commit(offsets).catch((error) => this.warn('commit on revoke', error))
        for (const key of revoked) {
          this.uncommitted.delete(key)
          this.positions.delete(key)
        }
      },
    })
  }

  /** Committed offsets first (with a group), then --from for the rest; remembered as read positions. */
  private async startsFor(partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    const wanted = new Set(partitions.map(tpKey))
    const committed =
      this.options.group === undefined
        ? []
        : (await this.consumer.committed(partitions)).filter((c) => wanted.has(tpKey(c)))
    const have = new Set(committed.map(tpKey))
    const missing = partitions.filter((tp) => !have.has(tpKey(tp)))
    const starts = [
      ...committed,
      ...(missing.length > 0 ? await resolveFrom(this.admin, missing, this.from) : []),
    ]
    for (const start of starts) this.positions.set(tpKey(start), start.offset)
    return starts
  }

  async run(): Promise<StopReason> {
    const { count, exitAtEnd } = this.options
    const signal = this.io.signal
    let idleSince: number | undefined
    for (;;) {
      if (this.failure !== undefined) throw asError(this.failure)
      if (signal?.aborted) return 'interrupted'
      if (this.outputClosed) return 'output-closed'
      if (count !== undefined && this.printed >= count) return 'count'
      const idle = idleSince !== undefined && Date.now() - idleSince >= IDLE_AT_END_MS
      if (exitAtEnd && (this.caughtUp() || idle)) return 'end'
      const maxRecords = count === undefined ? 10_000 : Math.min(10_000, count - this.printed)
      const records = await this.consumer.poll({ timeoutMs: this.options.pollTimeoutMs ?? 1000, maxRecords })
      if (signal?.aborted) return 'interrupted'
      if (records.length > 0 || this.consumer.assignment().length === 0) idleSince = undefined
      else idleSince ??= Date.now()
      const take = count === undefined ? records : records.slice(0, count - this.printed)
      if (take.length > 0 && !(await this.print(take))) return 'output-closed'
      await this.commit(false)
    }
  }

  /**
   * Writes a poll's records in one write (a pipe takes 10k lines at once far faster than 10k writes)
   * and only then marks them printed: the commit covers what reached the output, never more.
   */
  private async print(records: ConsumedRecord[]): Promise<boolean> {
    const format = { format: this.options.format ?? 'text', printKey: this.options.printKey }
    try {
      await write(this.io.out, Buffer.concat(records.map((record) => formatRecord(record, format))))
    } catch {
      this.outputClosed = true
    }
    if (this.outputClosed) return false
    for (const record of records) {
      const next = { topic: record.topic, partition: record.partition, offset: record.offset + 1 }
      this.uncommitted.set(tpKey(next), next)
      this.positions.set(tpKey(next), next.offset)
    }
    this.printed += records.length
    return true
  }

  /** Caught up when every partition we own reached the end offset read at start (none owned: not yet). */
  private caughtUp(): boolean {
    const owned = this.consumer.assignment()
    if (owned.length === 0 || this.ends === undefined) return false
    return owned.every((tp) => (this.positions.get(tpKey(tp)) ?? -1) >= (this.ends?.get(tpKey(tp)) ?? 0))
  }

  /** Commits the next offsets of printed records: periodically, and always at the end (`final`). */
  async commit(final: boolean): Promise<void> {
    if (this.options.group === undefined || this.uncommitted.size === 0) return
    if (!final && Date.now() - this.lastCommit < (this.options.commitIntervalMs ?? 5000)) return
    const offsets = [...this.uncommitted.values()]
    this.uncommitted.clear()
    this.lastCommit = Date.now()
    try {
      await this.consumer.commit(offsets)
    } catch (error) {
      // A rebalance took the partitions: their new owner re-reads from the last commit (at-least-once).
      if (!(error instanceof TributaryError && error.code === 'REBALANCE') && final) throw error
      await this.warn('commit', error)
    }
  }

  private async warn(what: string, error: unknown): Promise<void> {
    await write(
      this.io.err,
      `warning: ${what} failed: ${error instanceof Error ? error.message : String(error)}\n`,
    )
  }
}

interface ConsumeFlags {
  group?: string
  from?: From
  partition?: number
  count?: number
  exitAtEnd?: boolean
  format: RecordFormat
  printKey?: boolean
  isolation: IsolationLevel
}

function parseFormat(text: string): RecordFormat {
  if (text === 'text' || text === 'json') return text
  if (text.includes('%')) return { template: text }
  throw new TributaryError(
    'INVALID_ARGUMENT',
    `--format must be text, json or a format string with % fields ('%t %p %o %k %s\\n'), got "${text}"`,
  )
}

export function consumeCommand(context: CliContext): Command {
  return new Command('consume')
    .description('print records of topics, one per line')
    .argument('<topic...>', 'topics to read (must exist)')
    .option(
      '-g, --group <id>',
      'consumer group: share partitions with its members and commit what was printed',
    )
    .option(
      '--from <where>',
      'beginning | end | <offset> | -<N> (last N per partition) | -15m, -2h (time ago) | <ISO time> | @<epoch ms> (default: end)',
      (text: string) => parseFrom(text),
    )
    .option('-p, --partition <n>', 'read only this partition (one topic)', (t) =>
      parseInteger(t, '--partition'),
    )
    .option('-n, --count <n>', 'exit after printing <n> records', (t) => parseInteger(t, '--count', 1))
    .option('-e, --exit-at-end', 'exit once caught up with the log end offsets read at start')
    .option(
      '--format <format>',
      "text (the value), json (one envelope per line) or a format string: '%k=%s\\n'",
      parseFormat,
      'text' as RecordFormat,
    )
    .option('--print-key', 'text format: print key<TAB>value')
    .option(
      '--isolation <level>',
      'read_uncommitted or read_committed',
      parseIsolation,
      'read_uncommitted' as IsolationLevel,
    )
    .addHelpText(
      'after',
      '\nWithout --group every partition is read from --from and no group is created. With --group,\n' +
        'partitions that have a committed offset continue from it and --from applies to the others only;\n' +
        'offsets of printed records are committed every 5 s and on exit (at-least-once).\n' +
        'JSON envelope: {topic, partition, offset, timestamp, key, value, headers}; key, value and header\n' +
        'values are UTF-8 strings, or base64 with keyEncoding/valueEncoding/encoding: "base64" when not UTF-8.\n' +
        'Format strings (kcat -f): %t topic, %p partition, %o offset, %k key, %s value, %K and %S their sizes\n' +
        '(-1 for null), %T timestamp (ms), %h headers (k=v,...), %% a percent sign, \\n newline, \\t tab; a null\n' +
        'key or value prints as nothing.\n' +
        '\nExamples:\n' +
        '  $ tributary consume rides --from beginning --exit-at-end\n' +
        '  $ tributary consume rides --group printers --from beginning --count 100 --print-key\n' +
        '  $ tributary consume rides --partition 2 --from 2024-05-01T00:00:00Z --format json\n' +
        '  $ tributary consume rides --from -10 --exit-at-end      # the last 10 records of each partition\n' +
        "  $ tributary consume rides --from -15m --format '%p@%o %k %s\\n'",
    )
    .action(async (topics: string[], flags: ConsumeFlags, command: Command) => {
      await context.client(command, async (transport, global, control) => {
        const options: ConsumeOptions = { topics, ...flags, timeoutMs: global.timeout }
        const io = { out: context.io.stdout, err: context.io.stderr, signal: control.signal }
        control.onForcedExit(() => 'offsets of records printed since the last commit were not committed')
        const summary = await consume(transport, options, io)
        return summary.reason === 'interrupted' ? EXIT_INTERRUPTED : EXIT_OK
      })
    })
}
