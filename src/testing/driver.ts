/**
 * The test driver: runs an app's agents on a private embedded broker, so a test pipes records into
 * topics with the timestamps it chooses, waits until everything they lead to is processed (through
 * repartition topics too), and reads the output topics and dead letters, typed by their codecs.
 * In the spirit of Kafka Streams' TopologyTestDriver, but the real runtime runs: partition tasks,
 * offset tracking, error policies and the consumer group are the ones production uses.
 *
 * Boot order: private broker -> app settings overridden (broker, no ops server, earliest) -> topics
 * created (timestamps accepted at any distance from now) -> worker started. close() undoes it all,
 * the app's own settings included, so the same App object may be driven again.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TributaryError } from '../errors.js'
import { ManualClock } from '../runtime/clock.js'
import { dlqTopic } from '../runtime/output/dead-letter.js'
import { createMissingTopics } from '../runtime/topics.js'
import type { Worker } from '../runtime/worker.js'
import type { App } from '../streams/app.js'
import type { ResolvedSettings } from '../streams/settings.js'
import type { Table } from '../streams/table.js'
import type { Topic } from '../streams/topic.js'
import { getMemoryBroker, type MemoryBroker } from '../transport/memory/broker.js'
import { createMemoryTransport, resetMemoryBroker } from '../transport/memory/transport.js'
import type {
  ConsumedRecord,
  Producer,
  ProducerRecord,
  RecordMetadata,
  Transport,
} from '../transport/types.js'
import { SettleTimeoutError } from './errors.js'
import {
  resolveOptions,
  type LogLevel,
  type ResolvedTestDriverOptions,
  type TestDriverOptions,
} from './options.js'
import { decodeDeadLetter, decodeRecord, encodeInput, encodeRaw, readTopic } from './records.js'
import { pendingWork, waitSettled } from './settle.js'
import type { DeadLetter, RawInput, ReadOptions, SettleOptions, TestInput, TestRecord } from './types.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- topics of any codecs, typed at each call */
type AnyTopic = Topic<any, any>

/** Kafka's Long.MAX_VALUE: the driver's topics take piped timestamps at any distance from now. */
const LONG_MAX = '9223372036854775807'

let started = 0

/** One record or a list of them, as a list. */
function toList<T>(input: T | readonly T[]): readonly T[] {
  return Array.isArray(input) ? (input as readonly T[]) : [input as T]
}

export class TestDriver {
  /** The app under test (its settings point at the driver's broker until close()). */
  readonly app: App
  /** The driver's clock: piped records without a timestamp get its time; advanceTime() moves it. */
  readonly clock: ManualClock
  /** The private embedded broker's URL, e.g. to open a transport on it in a test. */
  readonly brokerUrl: string
  /** The app's log lines, in order. */
  readonly logs: Array<{ level: LogLevel; message: string }> = []
  readonly #options: ResolvedTestDriverOptions
  readonly #name: string
  readonly #broker: MemoryBroker
  readonly #transport: Transport
  readonly #producer: Producer
  /** The app's state directory while driven: its own, so that restart() finds its stores again. */
  readonly #stateDir: string
  /** Declared and internal topics by name, to decode a topic read by name. */
  readonly #topics: Map<string, AnyTopic>
  #worker: Worker | undefined
  #saved: ResolvedSettings | undefined
  #failure: Error | undefined
  /** settle() already threw (a failure or a timeout): close() then does not throw over it. */
  #reported = false
  #closed = false
  #closing: Promise<void> | undefined

  private constructor(app: App, options: ResolvedTestDriverOptions) {
    this.app = app
    this.#topics = new Map(app.compile().topics.map((t) => [t.name, t]))
    this.#options = options
    this.clock = new ManualClock(options.startTime)
    this.#name = `tributary-test-${++started}-${app.id}`
    // Retention never runs on the driver's broker: records piped at old timestamps stay readable.
    this.brokerUrl = `memory://${this.#name}?log.retention.check.interval.ms=${Number.MAX_SAFE_INTEGER}`
    this.#transport = createMemoryTransport(this.brokerUrl.slice('memory://'.length))
    this.#broker = getMemoryBroker(this.#name)
    // Nothing of the driver's world holds the process open (see keepAlive in #start).
    this.#broker.pollsHoldProcess = false
    this.#producer = this.#transport.producer({ clientId: 'tributary-test-driver' })
    this.#stateDir = mkdtempSync(join(tmpdir(), 'tributary-test-driver-'))
  }

  /** Starts the app's worker on a private embedded broker; resolves once it joined its group. */
  static async start(app: App, options?: TestDriverOptions): Promise<TestDriver> {
    if (app.worker)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `App "${app.id}" is running: stop it before driving it in a test`,
      )
    const driver = new TestDriver(app, resolveOptions(options))
    try {
      await driver.#start()
    } catch (error) {
      await driver.close()
      throw error
    }
    return driver
  }

  async #start(): Promise<void> {
    const app = this.app
    const saved = (this.#saved = app.settings)
    app.override({
      broker: this.brokerUrl,
      web: false,
      createTopics: true,
      topicReplicationFactor: 1,
      // The driver's broker is new: every record piped is read, whatever the app says for production.
      offsetReset: 'earliest',
      workerId: `${app.id}-test-driver`,
      stateDir: this.#stateDir,
      // The app's timers run on the driver's clock: advanceTime() fires them.
      clock: this.clock,
      // A test that fails before close() must still end: the driver's worker holds no process open.
      keepAlive: false,
      log: (level, message) => {
        this.logs.push({ level, message })
        this.#options.log?.(level, message)
        saved.log?.(level, message)
      },
    })
    const defaults = { partitions: app.settings.topicPartitions, replicationFactor: 1 }
    const topics = [...this.#topics.values()].map((topic) => {
      // The embedded broker is one node; a topic declared for a cluster (replication 3) still runs here.
      const spec = { ...topic.toNewTopic(defaults), replicationFactor: 1 }
      spec.configs = { 'message.timestamp.after.max.ms': LONG_MAX, ...spec.configs }
      return spec
    })
    await createMissingTopics(this.#transport.admin(), topics)
    await this.#startWorker()
  }

  async #startWorker(): Promise<void> {
    const worker = (this.#worker = await this.app.start())
    worker.done.catch((error: unknown) => {
      this.#failure ??= error instanceof Error ? error : new Error(String(error))
    })
  }

  /**
   * Stops the app and starts it again on the same broker and state directory, so that its tables
   * are restored: from their changelogs, and with `lmdb://` stores from what is on disk. By default
   * a graceful stop (everything processed is committed and checkpointed); with `crash: true` the
   * worker stops as a killed process would: nothing more is committed or flushed, so the restart
   * redoes what followed the last commit (at-least-once repeats it, exactly-once aborts it).
   * Resolves once the restarted worker has joined its group; settle() then waits for the restore.
   */
  async restart(options: { crash?: boolean } = {}): Promise<void> {
    this.#check()
    // Nothing of the driver's world holds the process open: this does, while the app stops and starts.
    const hold = setInterval(() => undefined, 1_000)
    try {
      if (options.crash) await this.#worker?.halt()
      if (!(await this.#stopWithin(this.#options.settleTimeoutMs)))
        throw new TributaryError(
          'TIMEOUT',
          `App "${this.app.id}" did not stop within ${this.#options.settleTimeoutMs} ms for the restart`,
        )
      this.#worker = undefined
      await this.#startWorker()
    } finally {
      clearInterval(hold)
    }
  }

  /** The table's entries once everything piped is processed (settle() first). */
  async table<K, V>(table: Table<K, V, any>, options: SettleOptions = {}): Promise<Map<K, V>> {
    await this.settle(options)
    if (this.app.tables.get(table.name) !== table)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Table "${table.name}" is not a table of app "${this.app.id}"`,
      )
    return new Map(table.entries())
  }

  /** The worker running the app's agents (for its counts and state). */
  get worker(): Worker {
    if (!this.#worker) throw new TributaryError('CLOSED', 'The test driver is not running')
    return this.#worker
  }

  /** The driver's time: ms since the epoch. */
  now(): number {
    return this.clock.now()
  }

  /** Sends records to a topic, encoded with its codecs; resolves once the broker appended them. */
  pipe<K, V>(topic: Topic<K, V>, record: TestInput<K, V>): Promise<RecordMetadata>
  pipe<K, V>(topic: Topic<K, V>, records: readonly TestInput<K, V>[]): Promise<RecordMetadata[]>
  async pipe<K, V>(
    topic: Topic<K, V>,
    input: TestInput<K, V> | readonly TestInput<K, V>[],
  ): Promise<RecordMetadata | RecordMetadata[]> {
    const sent = await this.#send(topic.name, () =>
      toList(input).map((r) => encodeInput(topic, r, this.now())),
    )
    return Array.isArray(input) ? sent : sent[0]!
  }

  /** Sends records as bytes (strings as UTF-8): for input the topic's codecs cannot make. */
  pipeRaw(topic: string, record: RawInput): Promise<RecordMetadata>
  pipeRaw(topic: string, records: readonly RawInput[]): Promise<RecordMetadata[]>
  async pipeRaw(
    topic: string,
    input: RawInput | readonly RawInput[],
  ): Promise<RecordMetadata | RecordMetadata[]> {
    const sent = await this.#send(topic, () => toList(input).map((r) => encodeRaw(topic, r, this.now())))
    return Array.isArray(input) ? sent : sent[0]!
  }

  async #send(topic: string, encode: () => ProducerRecord[]): Promise<RecordMetadata[]> {
    this.#check()
    if (!this.#broker.topics.has(topic)) throw this.#unknownTopic(topic)
    // One send: the embedded broker checks the whole batch before appending any of it.
    return this.#producer.send(encode())
  }

  /**
   * Resolves once every piped record, and every record the agents produced on the way (repartition
   * and through topics included), is fully processed and its outputs are in their topics. Rejects
   * with the app's failure (e.g. a record under the `fail` policy: the error names its topic,
   * partition and offset), or with a SettleTimeoutError naming what is still pending.
   */
  async settle(options: SettleOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.#options.settleTimeoutMs
    try {
      this.#check()
      const worker = this.worker
      const deadline = Date.now() + timeoutMs
      for (;;) {
        await waitSettled({
          timeoutMs: Math.max(1, deadline - Date.now()),
          pending: () => pendingWork(worker, this.#broker, this.app.id),
          check: () => this.#check(),
          timedOut: (pending) => new SettleTimeoutError(timeoutMs, pending),
        })
        if (worker.config.guarantee !== 'exactly_once') return
        // Exactly-once: what the worker wrote is visible (to it, and to read()) once committed; a
        // commit that had nothing to commit ends the loop.
        const before = worker.transactionsCommitted
        await worker.flush()
        if (worker.transactionsCommitted === before) return
      }
    } catch (error) {
      this.#reported = true
      throw error
    }
  }

  /** Moves the driver's clock forward (firing its due timers in order), then settles. */
  async advanceTime(ms: number): Promise<void> {
    this.#check()
    await this.clock.advance(ms)
    await this.settle()
  }

  /** The records of a topic, decoded with its codecs, by partition then offset (settles first). */
  read<K, V>(topic: Topic<K, V>, options?: ReadOptions): Promise<Array<TestRecord<K, V>>>
  /** By name: a topic of the app, or one of its internal topics (`<appId>-<name>-repartition`). */
  read(topic: string, options?: ReadOptions): Promise<Array<TestRecord<unknown, unknown>>>
  async read(topic: AnyTopic | string, options: ReadOptions = {}): Promise<Array<TestRecord<any, any>>> {
    const codecs = typeof topic === 'string' ? this.#topics.get(topic) : topic
    if (!codecs) {
      const name = topic as string
      throw new TributaryError(
        'UNKNOWN_TOPIC',
        `Topic "${name}" is not a topic of app "${this.app.id}", so its codecs are unknown; use readRaw()`,
        { topic: name },
      )
    }
    return (await this.readRaw(codecs.name, options)).map((r) => decodeRecord(codecs, r))
  }

  /** The records of any topic on the driver's broker, as bytes, by partition then offset (settles first). */
  async readRaw(topic: string, options: ReadOptions = {}): Promise<ConsumedRecord[]> {
    if (options.settle ?? true) await this.settle()
    else this.#checkOpen()
    const records = readTopic(this.#broker, topic)
    if (!records) throw this.#unknownTopic(topic)
    return records
  }

  /** The records the `dlq` policy sent to `<appId>-dlq`, with their coordinates and errors (settles first). */
  async deadLetters(options: ReadOptions = {}): Promise<DeadLetter[]> {
    const topic = dlqTopic(this.app.id)
    if (options.settle ?? true) await this.settle()
    else this.#checkOpen()
    return (readTopic(this.#broker, topic) ?? []).map(decodeDeadLetter)
  }

  /**
   * Stops the worker gracefully, gives the app its own settings back and discards the broker. Safe
   * to call twice; a failure of the app was reported by settle() and is not thrown again here. A stop
   * that takes longer than `settleTimeoutMs` (an agent stuck on a record) rejects with a TIMEOUT
   * error instead of hanging the test (only logged when settle() already threw, not to hide that).
   */
  close(): Promise<void> {
    this.#closed = true
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  /** `await using driver = await TestDriver.start(app)`: closes the driver when the block ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  async #shutdown(): Promise<void> {
    let stuck: string[] | undefined
    try {
      const worker = this.#worker
      if (worker && !(await this.#stopWithin(this.#options.settleTimeoutMs)))
        stuck = pendingWork(worker, this.#broker, this.app.id)
    } finally {
      // A stop that never ended leaves the app running on the driver's settings: they cannot change.
      if (this.#saved && !stuck) {
        const { id: _id, ...own } = this.#saved
        this.app.override(own)
      }
      this.#worker = undefined
      await this.#transport.close().catch(() => undefined)
      resetMemoryBroker(this.#name)
      rmSync(this.#stateDir, { recursive: true, force: true })
    }
    if (stuck) {
      const message = `App "${this.app.id}" did not stop within ${this.#options.settleTimeoutMs} ms: a graceful stop waits for the record each agent has in hand and for its outputs (${stuck.join('; ') || 'nothing pending on the broker'})`
      this.logs.push({ level: 'error', message })
      // In a test's finally, an error here would hide the one settle() already threw.
      if (this.#reported) return
      throw new TributaryError('TIMEOUT', message)
    }
  }

  /** Stops the app gracefully; false when that takes longer than `ms` (an agent that never finishes). */
  async #stopWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
    try {
      return await Promise.race([this.app.stop().then(() => true as const), late])
    } finally {
      clearTimeout(timer)
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new TributaryError('CLOSED', 'The test driver was closed')
  }

  /** Open, and the app still running: throws its failure if it failed. */
  #check(): void {
    this.#checkOpen()
    if (this.#failure) throw this.#failure
    // A failed worker's error arrives through `done` a microtask after its state says so: the next
    // check throws it. A worker stopped without failing was stopped from outside the driver.
    if (this.#worker?.state === 'stopped')
      throw new TributaryError('CLOSED', "The app's worker was stopped while the test driver was running")
  }

  #unknownTopic(topic: string): TributaryError {
    const known = [...this.#broker.topics.keys()].sort().join(', ')
    return new TributaryError(
      'UNKNOWN_TOPIC',
      `Topic "${topic}" does not exist on the test broker (it has: ${known}); declare it with app.topic()`,
      { topic },
    )
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Same as `TestDriver.start(app, options)`. */
export function createTestDriver(app: App, options?: TestDriverOptions): Promise<TestDriver> {
  return TestDriver.start(app, options)
}
