/**
 * The App: an id (its consumer group and the prefix of its internal topics), a broker, and the
 * topics and agents declared on it. `run()` starts a worker; start as many worker processes of
 * the same app as you like, and the group spreads the partitions over them.
 */
import { TributaryError } from '../errors.js'
import { knownKeys } from '../validate.js'
import { dlqTopic } from '../runtime/output/dead-letter.js'
import { workerOps } from '../runtime/ops.js'
import { LeaderElector } from '../runtime/leader/leader.js'
import type { LogFields, LogLevel } from '../runtime/log.js'
import { Timers, type CronOptions, type TimerCallback, type TimerOptions } from '../runtime/timers/timers.js'
import { Worker } from '../runtime/worker.js'
import { GlobalUpdater } from '../runtime/global/updater.js'
import { createMissingTopics } from '../runtime/topics.js'
import { startOpsServer } from '../web/server.js'
import type { OpsServer, TimerStats } from '../web/types.js'
import { raw } from '../serde/codecs.js'
import type { StoreSpec } from '../runtime/types.js'
import type { KeyValue } from '../state/types.js'
import { partitionForKey } from '../transport/partitioner.js'
import { openTransport } from '../transport/index.js'
import type { NewTopic, ProducerRecord, RecordMetadata, Transport } from '../transport/types.js'
import { Agent, type AgentBody, type AgentOptions, type Sink } from './agent.js'
import { compileAgent, type CompileContext } from './compile.js'
import { compileProcessor, type ProcessorOptions, type StreamProcessor } from './processor.js'
import { CORRELATION_ID, REPLY_TO, ReplyRouter } from './replies.js'
import { resolveSettings, type AppSettings, type ResolvedSettings } from './settings.js'
import { Stream } from './stream.js'
import { GlobalTable, type GlobalTableOptions } from './global-table.js'
import { Table, type TableOptions, type TableReader } from './table.js'
import { tableQueries } from './table-queries.js'
import { Topic, type TopicOptions } from './topic.js'
import { WindowedTable, type WindowedTableOptions } from './windowed-table.js'
import type { ErrorPolicy, OutgoingRecord } from './types.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
export class App {
  #settings: ResolvedSettings
  readonly #given: AppSettings
  readonly #topics = new Map<string, Topic<any, any>>()
  readonly #agents = new Map<string, Agent<any, any>>()
  readonly #tables = new Map<string, Table<any, any, any>>()
  readonly #globals = new Map<string, GlobalTable<any, any, any>>()
  #updaters: GlobalUpdater[] = []
  /** The tables' stores as compiled at start (their key codecs, changelogs). */
  #storeSpecs = new Map<string, StoreSpec>()
  readonly #processors = new Map<
    string,
    { stream: Stream<any, any>; create: () => StreamProcessor<any, any>; options: ProcessorOptions }
  >()
  #transport: Transport | undefined
  #worker: Worker | undefined
  #ops: OpsServer | undefined
  readonly #timerDeclarations: Array<(timers: Timers) => void> = []
  #needsLeader = false
  #timers: Timers | undefined
  #replies: ReplyRouter | undefined
  #leader: LeaderElector | undefined

  constructor(settings: AppSettings) {
    this.#given = settings
    this.#settings = resolveSettings(settings)
  }

  get settings(): ResolvedSettings {
    return this.#settings
  }

  /**
   * Overrides settings before the app starts (the worker command applies --broker and friends this
   * way; the test driver points the app at a private embedded broker).
   */
  override(settings: Partial<Omit<AppSettings, 'id'>>): this {
    if (this.#worker)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `App "${this.id}" is running: stop it before changing its settings`,
      )
    this.#settings = resolveSettings({ ...this.#given, ...this.#settings, ...settings, id: this.#given.id })
    return this
  }

  get id(): string {
    return this.settings.id
  }

  /** Declares a topic with its codecs. Declaring the same name twice returns an error. */
  topic<K, V>(name: string, options: TopicOptions<K, V>): Topic<K, V> {
    if (this.#topics.has(name))
      throw new TributaryError('INVALID_ARGUMENT', `Topic "${name}" is declared twice in app "${this.id}"`)
    const topic = new Topic(name, options, () => ({ send: (records) => this.#send(records) }))
    this.#topics.set(name, topic)
    return topic
  }

  /**
   * Declares a table: a key-value view per partition, logged to `<appId>-<name>-changelog` and
   * restored from it. Agents that use it name it (`tables: [table]`); inside their bodies it reads
   * and writes the store of the record's partition.
   */
  table<K, V>(name: string, options: TableOptions<K, V> & { default: V | (() => V) }): Table<K, V, V>
  table<K, V>(name: string, options?: TableOptions<K, V>): Table<K, V, V | undefined>
  table<K, V>(name: string, options: TableOptions<K, V> = {}): Table<K, V, V | undefined> {
    if (this.#tables.has(name) || this.#globals.has(name))
      throw new TributaryError('INVALID_ARGUMENT', `Table "${name}" is declared twice in app "${this.id}"`)
    const table = new Table<K, V>(name, options)
    this.#tables.set(name, table)
    return table
  }

  /**
   * Declares a windowed table: a value per key and window (tumbling, hopping or session) on event
   * time, restored from its changelog, each window's final value emitted once when it closes.
   */
  windowedTable<K, V>(name: string, options: WindowedTableOptions<K, V>): WindowedTable<K, V> {
    if (this.#tables.has(name) || this.#globals.has(name))
      throw new TributaryError('INVALID_ARGUMENT', `Table "${name}" is declared twice in app "${this.id}"`)
    const table = new WindowedTable<K, V>(name, options)
    this.#tables.set(name, table.table)
    return table
  }

  /**
   * Declares a global table: every worker holds all of it, restored before it processes a record
   * and kept current from its topic `<appId>-<name>-global`; any agent reads any key, and a write
   * on one worker (`await table.set(k, v)`) reaches all of them.
   */
  globalTable<K, V>(
    name: string,
    options: GlobalTableOptions<K, V> & { default: V | (() => V) },
  ): GlobalTable<K, V, V>
  globalTable<K, V>(name: string, options?: GlobalTableOptions<K, V>): GlobalTable<K, V, V | undefined>
  globalTable<K, V>(name: string, options: GlobalTableOptions<K, V> = {}): GlobalTable<K, V, V | undefined> {
    if (this.#globals.has(name) || this.#tables.has(name))
      throw new TributaryError('INVALID_ARGUMENT', `Table "${name}" is declared twice in app "${this.id}"`)
    const table = new GlobalTable<K, V>(this.id, name, options)
    this.#globals.set(name, table)
    return table
  }

  get globalTables(): ReadonlyMap<string, GlobalTable<any, any, any>> {
    return this.#globals
  }

  get tables(): ReadonlyMap<string, Table<any, any, any>> {
    return this.#tables
  }

  /**
   * Declares an agent: `body` iterates the stream of each assigned partition. Without a body, every
   * value of the stream (after its operators) goes to `sink`, record by record and without an async
   * iteration per record: the form of a pure operator pipeline (Kafka Streams' `to`).
   */
  agent<K, V>(
    name: string,
    source: Topic<K, V> | Stream<K, V>,
    body: AgentBody<K, V>,
    options?: AgentOptions,
  ): Agent<K, V>
  agent<K, V>(
    name: string,
    source: Topic<K, V> | Stream<K, V>,
    options: AgentOptions & { sink: Sink[] },
  ): Agent<K, V>
  agent<K, V>(
    name: string,
    source: Topic<K, V> | Stream<K, V>,
    bodyOrOptions: AgentBody<K, V> | AgentOptions,
    maybeOptions?: AgentOptions,
  ): Agent<K, V> {
    const body = typeof bodyOrOptions === 'function' ? bodyOrOptions : undefined
    const options =
      typeof bodyOrOptions === 'function' || bodyOrOptions == null ? maybeOptions : bodyOrOptions
    if (this.#agents.has(name) || this.#processors.has(name))
      throw new TributaryError('INVALID_ARGUMENT', `Agent "${name}" is declared twice in app "${this.id}"`)
    const stream = source instanceof Topic ? source.stream() : source
    if (!this.#topics.has(stream.source.name) || this.#topics.get(stream.source.name) !== stream.source) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Agent "${name}" reads topic "${stream.source.name}", which was not declared with app.topic()`,
      )
    }
    for (const named of options?.tables ?? []) {
      const table = named instanceof WindowedTable ? named.table : named
      if (named instanceof WindowedTable && (options?.concurrency ?? 1) > 1)
        throw new TributaryError(
          'INVALID_ARGUMENT',
          `Agent "${name}": windowed table "${named.name}" needs the record in process, and with concurrency ${options?.concurrency} ` +
            'several are; use concurrency 1 (the default)',
        )
      if (
        named instanceof WindowedTable &&
        named.time === 'ingestion' &&
        stream.source.options.configs?.['message.timestamp.type'] !== 'LogAppendTime'
      )
        throw new TributaryError(
          'INVALID_ARGUMENT',
          `Agent "${name}": windowed table "${named.name}" runs on ingestion time, the broker's append time, but topic ` +
            `"${stream.source.name}" is not declared with configs: { 'message.timestamp.type': 'LogAppendTime' } ` +
            "(its records would carry the producers' times); declare it so (and set it on the topic if it exists), or use time: 'event'",
        )
      if (named instanceof WindowedTable)
        for (const topic of named.topics())
          if (this.#topics.get(topic.name) !== topic)
            throw new TributaryError(
              'INVALID_ARGUMENT',
              `Agent "${name}": windowed table "${named.name}" sends to topic "${topic.name}", which was not declared with app.topic()`,
            )
      if (!(table instanceof Table) || this.#tables.get(table.name) !== table)
        throw new TributaryError(
          'INVALID_ARGUMENT',
          `Agent "${name}": tables: ${table instanceof Table ? `"${table.name}"` : 'an entry'} was not declared with app.table()`,
        )
    }
    const agent = new Agent(name, stream, body, options, (a, record, timeoutMs) =>
      this.#ask(a, record, timeoutMs),
    )
    this.#agents.set(name, agent)
    return agent
  }

  /**
   * Declares a record-at-a-time processor (the Processor API): `create` makes one per partition
   * task; it sees every record of its task in order and may schedule punctuations.
   */
  processor<K, V>(
    name: string,
    source: Topic<K, V> | Stream<K, V>,
    create: () => StreamProcessor<K, V>,
    options: ProcessorOptions = {},
  ): void {
    if (this.#agents.has(name) || this.#processors.has(name))
      throw new TributaryError('INVALID_ARGUMENT', `"${name}" is declared twice in app "${this.id}"`)
    knownKeys(`Processor "${name}": option`, options, ['errors'])
    if (!/^[a-zA-Z0-9._-]+$/.test(name))
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Processor name "${name}" is not valid: use a-z A-Z 0-9 . _ -`,
      )
    const stream = source instanceof Topic ? source.stream() : source
    if (this.#topics.get(stream.source.name) !== stream.source)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Processor "${name}" reads topic "${stream.source.name}", which was not declared with app.topic()`,
      )
    this.#processors.set(name, { stream, create, options })
  }

  /**
   * Runs `fn` every `intervalMs` while the app runs (first run one interval after start; a run never
   * overlaps the previous one). With `onLeader`, only on the one worker that is the app's leader.
   */
  timer(intervalMs: number, fn: TimerCallback, options: TimerOptions = {}): void {
    if (options.onLeader) this.#needsLeader = true
    this.#timerDeclarations.push((timers) => timers.timer(intervalMs, fn, options))
  }

  /** Runs `fn` on a cron schedule (e.g. '0 * * * *'); `onLeader` as for timer(). */
  cron(expression: string, fn: TimerCallback, options: CronOptions = {}): void {
    if (options.onLeader) this.#needsLeader = true
    this.#timerDeclarations.push((timers) => timers.cron(expression, fn, options))
  }

  /** True while this worker is the app's leader (only tracked when a timer asks for onLeader). */
  isLeader(): boolean {
    return this.#leader?.isLeader() ?? false
  }

  get agents(): ReadonlyMap<string, Agent<any, any>> {
    return this.#agents
  }

  get topics(): ReadonlyMap<string, Topic<any, any>> {
    return this.#topics
  }

  /**
   * Sends encoded records through the worker's producer. Inside an agent, await it before taking the
   * next record: the record's offset is committed only after the body asks for the next one, so an
   * awaited send is always acknowledged before its input is committed (at-least-once).
   */
  #send(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    if (!this.#worker)
      return Promise.reject(
        new TributaryError('CLOSED', `App "${this.id}" is not running: start it before sending`),
      )
    return this.#worker.send(records)
  }

  /** The processors and the topics the app needs (its own and the internal ones).
   * @internal
   */
  compile(): {
    processors: ReturnType<typeof compileAgent>
    topics: Topic<any, any>[]
    /** Repartition topics that take their partition count from their source topic, as it is on the broker. */
    partitionsFrom: Map<string, string>
  } {
    const internal = new Map<string, Topic<any, any>>()
    const partitionsFrom = new Map<string, string>()
    const policies = new Set<ErrorPolicy>()
    const specs = new Map<string, StoreSpec>()
    const ctx: CompileContext = {
      appId: this.id,
      errors: this.settings.errors,
      repartitionTopic: (name, source, op) => {
        const topicName = `${this.id}-${name}-repartition`
        const existing = internal.get(topicName)
        if (existing) return existing
        const created = new Topic(topicName, {
          key: op.key,
          value: op.value,
          partitions: op.partitions ?? source.options.partitions ?? this.settings.topicPartitions,
          internal: true,
        })
        internal.set(topicName, created)
        if (op.partitions === undefined) partitionsFrom.set(topicName, source.name)
        return created
      },
      stores: (tables, source, keyCodec) =>
        tables.map((table) => {
          let spec = specs.get(table.name)
          if (!spec) {
            spec = table.spec(this.id, { store: this.settings.store, key: keyCodec })
            specs.set(table.name, spec)
            // The changelog has the partitions of the topic its tasks read.
            internal.set(
              spec.changelog,
              new Topic(spec.changelog, {
                key: raw,
                value: raw,
                ...(spec.changelogConfigs ? { configs: { ...spec.changelogConfigs } } : { compacted: true }),
                internal: true,
                partitions: source.options.partitions ?? this.settings.topicPartitions,
              }),
            )
            partitionsFrom.set(spec.changelog, source.name)
          }
          return spec
        }),
    }
    const processors = [...this.#agents.values()].flatMap((agent) => {
      policies.add(agent.options.errors ?? this.settings.errors)
      return compileAgent(agent, ctx)
    })
    for (const [name, p] of this.#processors) {
      const errors = p.options.errors ?? this.settings.errors
      policies.add(errors)
      processors.push(...compileProcessor(name, p.stream, p.create, errors, ctx))
    }
    if (policies.has('dlq'))
      internal.set(dlqTopic(this.id), new Topic(dlqTopic(this.id), { key: raw, value: raw, internal: true }))
    for (const g of this.#globals.values())
      internal.set(
        g.topic,
        new Topic(g.topic, {
          key: raw,
          value: raw,
          compacted: true,
          internal: true,
          partitions: g.options.partitions ?? this.settings.topicPartitions,
        }),
      )
    for (const name of this.#tables.keys())
      if (!specs.has(name))
        throw new TributaryError(
          'INVALID_ARGUMENT',
          `Table "${name}" is named by no agent: add it to the options of the agent that uses it, tables: [${name}]`,
        )
    this.#storeSpecs = specs
    return { processors, topics: [...this.#topics.values(), ...internal.values()], partitionsFrom }
  }

  /** Tables read outside an agent: the stores of this worker's tasks. */
  #tableReader(): TableReader | undefined {
    const worker = this.#worker
    if (!worker) return undefined
    const local = (
      name: string,
    ): Array<{ partition: number; topic: string; store: KeyValue<unknown, unknown> }> =>
      worker.tasks().flatMap((task) => {
        const store = task.stateManager.store(name)
        return store ? [{ partition: task.partition, topic: task.subtopology.sourceTopics[0]!, store }] : []
      })
    return {
      stores: (name) => local(name).map((s) => s.store),
      storeFor: (name, key) => {
        const spec = this.#storeSpecs.get(name)
        const stores = local(name)
        const first = stores[0]
        const count = first && worker.partitionCount(first.topic)
        if (!spec || !first || count === undefined)
          throw new TributaryError(
            'NOT_HERE',
            `table "${name}": this worker holds none of its partitions now`,
          )
        const bytes = spec.key.encode(key)
        const partition = bytes === null ? 0 : partitionForKey(bytes, count)
        const found = stores.find((s) => s.partition === partition)
        if (!found)
          throw new TributaryError(
            'NOT_HERE',
            `table "${name}": key ${JSON.stringify(key)} is on partition ${partition}, which this worker does not hold now`,
            { partition },
          )
        return found.store
      },
    }
  }

  async #ask(
    agent: Agent<unknown, unknown>,
    record: OutgoingRecord<unknown, unknown>,
    timeoutMs: number,
  ): Promise<unknown> {
    if (!this.#worker || !this.#transport)
      throw new TributaryError('CLOSED', `App "${this.id}" is not running: start it before asking`)
    this.#replies ??= new ReplyRouter(
      this.#transport,
      this.id,
      this.settings.processingGuarantee === 'exactly_once' ? 'read_committed' : 'read_uncommitted',
    )
    const router = this.#replies
    await router.start()
    // Encoded first: a record the codec refuses fails the ask before a reply is awaited.
    const encoded = agent.topic.encode(record)
    const { id, reply } = router.expect(timeoutMs, `agent "${agent.name}"`)
    encoded.headers = [
      ...(encoded.headers ?? []),
      [REPLY_TO, Buffer.from(router.topic)],
      [CORRELATION_ID, Buffer.from(id)],
    ]
    try {
      await this.#worker.send([encoded])
    } catch (error) {
      router.cancel(id, error instanceof Error ? error : new Error(String(error)))
    }
    return reply
  }

  /**
   * Starts a worker of this app; resolves once it has joined the group. `onStarting` runs when the
   * worker knows its id and the ops server is bound, before it creates topics or joins (a banner).
   */
  async start(hooks: { onStarting?: (workerId: string) => void } = {}): Promise<Worker> {
    if (this.#worker) throw new TributaryError('INVALID_ARGUMENT', `App "${this.id}" is already running`)
    const { processors, topics, partitionsFrom } = this.compile()
    const s = this.settings
    this.#transport = openTransport(s.broker)
    const defaults = { partitions: s.topicPartitions, replicationFactor: s.topicReplicationFactor }
    const toCreate = s.createTopics ? topics.map((t) => t.toNewTopic(defaults)) : []
    // A repartition topic or a changelog gets as many partitions as its source really has (it may
    // predate the app), following the chain: a changelog of a repartition topic of a source topic.
    if (partitionsFrom.size > 0 && toCreate.length > 0) {
      const admin = this.#transport.admin()
      const existing = new Set(await admin.listTopics())
      const sources = [...new Set(partitionsFrom.values())].filter((t) => existing.has(t))
      const counts = new Map((await admin.describeTopics(sources)).map((d) => [d.topic, d.partitions.length]))
      const planned = new Map(toCreate.map((t) => [t.topic, t]))
      const countOf = (topic: string): number | undefined => {
        const from = partitionsFrom.get(topic)
        if (from === undefined) return counts.get(topic) ?? planned.get(topic)?.partitions
        return counts.get(from) ?? countOf(from)
      }
      for (const topic of toCreate) {
        if (!partitionsFrom.has(topic.topic)) continue
        const count = countOf(topic.topic)
        if (count !== undefined) topic.partitions = count
      }
    }
    const worker = new Worker({
      appId: s.id,
      transport: this.#transport,
      processors,
      topics: toCreate,
      guarantee: s.processingGuarantee,
      commitIntervalMs: s.commitIntervalMs,
      commitEvery: s.commitEvery,
      maxBufferedRecords: s.maxBufferedRecords,
      sessionTimeoutMs: s.sessionTimeoutMs,
      offsetReset: s.offsetReset,
      stateDir: s.stateDir,
      stopTimeoutMs: s.stopTimeoutMs,
      processingTimeoutMs: s.processingTimeoutMs,
      standbyReplicas: s.standbyReplicas,
      keepAlive: s.keepAlive,
      ...(s.workerId !== undefined ? { workerId: s.workerId } : {}),
      ...(s.groupInstanceId !== undefined ? { groupInstanceId: s.groupInstanceId } : {}),
      ...(s.clock ? { clock: s.clock } : {}),
      ...(s.log ? { log: s.log } : {}),
      advertisedUrl: () => this.#advertisedUrl(),
      ...(hooks.onStarting ? { onStarting: hooks.onStarting } : {}),
    })
    this.#worker = worker
    for (const table of this.#tables.values()) table.attach(() => this.#tableReader())
    try {
      // The ops server first: its URL is what the worker advertises to the group, and a taken port
      // fails the start before the worker joins (and makes the group rebalance) for nothing.
      if (s.web) {
        const timers = (): TimerStats[] =>
          (this.#timers?.stats() ?? []).map((t) => ({
            name: t.name,
            intervalMs: t.kind === 'interval' ? Number(t.schedule.replace(/\D/g, '')) || 0 : 0,
            runs: t.runs,
            errors: t.errors,
            lastRunAt: t.lastRunAt ?? null,
          }))
        const tables =
          this.#tables.size > 0
            ? tableQueries(worker, this.#storeSpecs, () => this.#advertisedUrl())
            : undefined
        this.#ops = await startOpsServer({
          provider: { ...workerOps(worker, this.#transport.admin(), timers), ...(tables ? { tables } : {}) },
          ...s.web,
        })
      }
      await this.#startGlobals(toCreate)
      await worker.start()
      if (worker.state !== 'running')
        throw new TributaryError('CLOSED', `App "${this.id}" was stopped while it was starting`)
      await this.#startTimers(s)
      if (this.#ops) this.#log('debug', `ops server on ${this.#ops.url} (/health, /stats, /metrics)`)
    } catch (error) {
      await this.stop()
      throw error
    }
    return worker
  }

  /** Global tables are restored before the worker joins its group, so no record is processed before. */
  async #startGlobals(toCreate: NewTopic[]): Promise<void> {
    if (this.#globals.size === 0) return
    const transport = this.#transport!
    const topics = new Set([...this.#globals.values()].map((g) => g.topic))
    await createMissingTopics(
      transport.admin(),
      toCreate.filter((t) => topics.has(t.topic)),
    )
    const isolationLevel =
      this.settings.processingGuarantee === 'exactly_once' ? 'read_committed' : 'read_uncommitted'
    for (const table of this.#globals.values()) {
      table.attach((records) => this.#send(records))
      const updater = new GlobalUpdater({
        transport,
        topic: table.topic,
        isolationLevel,
        apply: (key, value) => table.apply(key, value),
        onError: (error) => this.#log('warn', `global table "${table.name}": ${String(error)}`),
      })
      this.#updaters.push(updater)
      await updater.start()
      this.#log(
        'info',
        `global table "${table.name}" restored ${updater.applied} records from ${table.topic}`,
      )
    }
  }

  async #startTimers(s: ResolvedSettings): Promise<void> {
    if (this.#timerDeclarations.length === 0) return
    if (this.#needsLeader) {
      this.#leader = new LeaderElector({
        transport: this.#transport!,
        appId: s.id,
        sessionTimeoutMs: s.sessionTimeoutMs,
        workerId: this.#worker!.workerId,
        replicationFactor: s.topicReplicationFactor,
        onError: (error) => this.#log('warn', `leader election: ${String(error)}`),
      })
      await this.#leader.start()
    }
    const timers = new Timers({
      ...(this.#leader ? { leader: this.#leader } : {}),
      ...(s.clock ? { clock: s.clock } : {}),
      onError: (error, timer) =>
        this.#log(
          'error',
          `timer ${timer} failed: ${error instanceof Error ? error.message : String(error)}`,
        ),
    })
    for (const declare of this.#timerDeclarations) declare(timers)
    this.#timers = timers
  }

  /** Whether the app's own settings name a broker (without one it runs on the embedded memory://). */
  get brokerGiven(): boolean {
    return this.#given.broker !== undefined
  }

  /** What this worker advertises to the group for table requests: the setting, else the ops server's URL. */
  #advertisedUrl(): string | null {
    return this.settings.advertisedUrl ?? this.#ops?.url ?? null
  }

  /** The ops server's address while running, e.g. http://127.0.0.1:6066. */
  get opsUrl(): string | undefined {
    return this.#ops?.url
  }

  #log(level: LogLevel, message: string, fields?: LogFields): void {
    if (this.settings.log) this.settings.log(level, message, fields)
    else if (level === 'warn' || level === 'error')
      console.error(`[${this.#worker?.workerId ?? this.id}] ${level}: ${message}`)
  }

  /** True when a timer or cron runs on the leader only: the app then elects one (its own topic and group). */
  get electsLeader(): boolean {
    return this.#needsLeader
  }

  get worker(): Worker | undefined {
    return this.#worker
  }

  /** Graceful stop: finish the records in hand, commit, leave the group, close connections. */
  async stop(): Promise<void> {
    const worker = this.#worker
    try {
      await this.#timers?.stop()
      await this.#replies?.stop()
      await worker?.stop()
      await Promise.all(this.#updaters.map((u) => u.stop()))
      await this.#leader?.stop()
    } finally {
      this.#timers = undefined
      this.#leader = undefined
      this.#replies = undefined
      await this.#ops?.close()
      this.#ops = undefined
      await this.#transport?.close()
      for (const table of this.#tables.values()) table.attach(undefined)
      for (const table of this.#globals.values()) table.attach(undefined)
      this.#updaters = []
      this.#worker = undefined
      this.#transport = undefined
    }
  }

  /**
   * Runs a worker until SIGTERM or SIGINT (graceful stop), or until it fails (the promise rejects
   * with the error, e.g. a record under the `fail` policy, naming topic, partition and offset).
   */
  async run(): Promise<void> {
    const worker = await this.start()
    const stop = (): void => {
      void this.stop()
    }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
    try {
      await worker.done
    } finally {
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
      await this.stop()
    }
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */
