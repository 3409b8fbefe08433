/**
 * The worker: one member of the app's consumer group. It runs a partition task per assigned
 * partition and processor, feeds them from one poll loop, commits at-least-once, and shuts down
 * gracefully.
 *
 * Boot order: create missing topics -> producer -> consumer joins the group -> poll loop.
 * Shutdown order: stop polling -> tasks finish the records in hand and their outputs are acked ->
 * final commit -> leave the group -> close the producer.
 *
 * Commit rule (at-least-once): the committed offset of a partition is the minimum, over the
 * processors reading it, of the offset after their done prefix (tracker.ts). A record that failed
 * under the `fail` policy is never done, so nothing at or past it is committed.
 */
import { TributaryError } from '../errors.js'
import type {
  Consumer,
  ConsumedRecord,
  NewTopic,
  Producer,
  ProducerRecord,
  TopicPartition,
  Transport,
} from '../transport/types.js'
import { PartitionTask, type TaskHost } from './partition-task.js'
import type { ProcessorSpec } from './types.js'
import { createMissingTopics } from './topics.js'
import { deadLetterRecord } from './dead-letter.js'
import { OutputBatcher } from './output-batcher.js'

export interface WorkerConfig {
  appId: string
  transport: Transport
  processors: ProcessorSpec[]
  /** Topics to create when missing (empty when the app does not create topics). */
  topics: NewTopic[]
  /** @default 1000 */
  commitIntervalMs?: number
  /** Commit as soon as this many records were processed since the last commit. @default 10000 */
  commitEvery?: number
  /** Fetched records held in task queues before the poll loop waits (backpressure). @default 10000 */
  maxBufferedRecords?: number
  /** @default 10000 */
  sessionTimeoutMs?: number
  /** @default 'earliest' */
  offsetReset?: 'earliest' | 'latest'
  /** This worker's name in logs and in the group (client id). */
  workerId?: string
  /**
   * How long a graceful stop waits for agents to finish the records in hand. Past it, the stuck
   * records are left uncommitted (they are processed again after a restart) and the worker stops.
   * @default 30000
   */
  stopTimeoutMs?: number
  log?: (level: 'info' | 'warn' | 'error', message: string) => void
}

export interface AgentCounts {
  in: number
  out: number
  errors: number
}

type Key = string
const keyOf = (topic: string, partition: number): Key => `${topic}\u0000${partition}`

export class Worker {
  readonly config: Required<Omit<WorkerConfig, 'log'>> & Pick<WorkerConfig, 'log'>
  readonly counts = new Map<string, AgentCounts>()
  readonly #tasks = new Map<Key, PartitionTask[]>()
  readonly #committed = new Map<Key, number>()
  #producer: Producer | undefined
  #batcher: OutputBatcher | undefined
  #consumer: Consumer | undefined
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed' = 'new'
  #loop: Promise<void> | undefined
  #commitTimer: NodeJS.Timeout | undefined
  #sinceCommit = 0
  #commits: Promise<void> = Promise.resolve()
  #failure: Error | undefined
  #stopping: Promise<void> | undefined
  #resolveDone!: () => void
  #rejectDone!: (error: Error) => void
  /** Settles when the worker stopped: resolves after stop(), rejects with the failure that stopped it. */
  readonly done: Promise<void>

  constructor(config: WorkerConfig) {
    this.config = {
      commitIntervalMs: 1000,
      commitEvery: 10_000,
      maxBufferedRecords: 10_000,
      sessionTimeoutMs: 10_000,
      offsetReset: 'earliest',
      workerId: `${config.appId}-${process.pid}`,
      stopTimeoutMs: 30_000,
      ...config,
    }
    for (const p of config.processors) this.counts.set(p.name, { in: 0, out: 0, errors: 0 })
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolveDone = resolve
      this.#rejectDone = reject
    })
    // The caller may only await stop(); an unobserved failure is still reported through done.
    this.done.catch(() => undefined)
  }

  get state(): string {
    return this.#state
  }

  #log(level: 'info' | 'warn' | 'error', message: string): void {
    if (this.config.log) this.config.log(level, message)
    else if (level !== 'info') console.error(`[${this.config.workerId}] ${level}: ${message}`)
  }

  readonly #host: TaskHost = {
    produce: (records, done) => {
      if (this.#batcher) this.#batcher.enqueue(records, done)
      else done(new TributaryError('CLOSED', 'The worker is not running'))
    },
    deadLetter: (record, error, processor) =>
      this.#produce([deadLetterRecord(this.config.appId, record, error, processor)]),
    log: (level, message) => this.#log(level, message),
    onProgress: (task, event) => {
      const counts = this.counts.get(task.spec.name)
      if (counts) counts[event === 'error' ? 'errors' : event]++
      if (event === 'in' && ++this.#sinceCommit >= this.config.commitEvery) {
        this.#sinceCommit = 0
        void this.#commit().catch((e: unknown) => this.#log('warn', `commit failed: ${String(e)}`))
      }
    },
    onFailure: (_task, error) => this.#fail(error),
  }

  /** Sends through the worker's producer (available once started), batched with other tasks' outputs. */
  #produce(records: ProducerRecord[]): ReturnType<Producer['send']> {
    if (!this.#batcher) return Promise.reject(new TributaryError('CLOSED', 'The worker is not running'))
    return this.#batcher.send(records)
  }

  /** Sends records from outside any agent (app.send, topic.send in a timer). */
  send(records: ProducerRecord[]): ReturnType<Producer['send']> {
    return this.#produce(records)
  }

  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new TributaryError('INVALID_ARGUMENT', `The worker was already started (${this.#state})`)
    this.#state = 'starting'
    const { transport, appId } = this.config
    await createMissingTopics(transport.admin(), this.config.topics)
    this.#producer = transport.producer({ clientId: this.config.workerId })
    const producer = this.#producer
    this.#batcher = new OutputBatcher((records) => producer.send(records))
    const topics = [...new Set(this.config.processors.map((p) => p.topic))]
    if (topics.length > 0) {
      this.#consumer = transport.consumer({
        groupId: appId,
        clientId: this.config.workerId,
        offsetReset: this.config.offsetReset,
        sessionTimeoutMs: this.config.sessionTimeoutMs,
      })
      await this.#consumer.subscribe(topics, {
        onAssigned: (partitions) => this.#assign(partitions),
        onRevoked: (partitions) => this.#revoke(partitions),
        onRebalanceStarting: () => {
          void this.#commit().catch((e: unknown) =>
            this.#log('info', `commit at rebalance start refused: ${String(e)}`),
          )
        },
      })
      // stop() may have come while joining: it has closed the consumer, so do not start the loop.
      if (this.#state !== 'starting') return
      this.#loop = this.#pollLoop()
    }
    if (this.#state !== 'starting') return
    this.#commitTimer = setInterval(() => {
      void this.#commit().catch((e: unknown) => this.#log('warn', `commit failed: ${String(e)}`))
    }, this.config.commitIntervalMs)
    this.#commitTimer.unref()
    this.#state = 'running'
    this.#log(
      'info',
      `worker ${this.config.workerId} of app ${appId} is running (topics: ${topics.join(', ') || 'none'})`,
    )
  }

  #assign(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions) {
      const tasks = this.config.processors
        .filter((p) => p.topic === topic)
        .map((spec) => new PartitionTask(spec, partition, this.#host))
      this.#tasks.set(keyOf(topic, partition), tasks)
      for (const task of tasks) task.start()
    }
  }

  async #revoke(partitions: TopicPartition[]): Promise<void> {
    const keys = partitions.map((p) => keyOf(p.topic, p.partition))
    await this.#closeTasks(keys.flatMap((k) => this.#tasks.get(k) ?? []))
    try {
      await this.#commit(keys)
    } catch (error) {
      // Refused only when the membership itself was lost (session expired): then another member owns them.
      this.#log(
        'warn',
        `commit of revoked partitions failed (they will be reprocessed from the last commit): ${String(error)}`,
      )
    }
    for (const k of keys) {
      this.#tasks.delete(k)
      this.#committed.delete(k)
    }
  }

  /**
   * Closes tasks: each finishes the record in hand and its outputs. Past stopTimeoutMs the stuck
   * ones are given up: their records stay uncommitted and are processed again after a restart.
   */
  async #closeTasks(tasks: PartitionTask[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const closed = await Promise.race([
      Promise.all(tasks.map((t) => t.close())).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.config.stopTimeoutMs))),
    ])
    clearTimeout(timer)
    if (!closed) {
      const stuck = tasks
        .filter((t) => t.tracker.inFlight() > 0)
        .map((t) => `${t.spec.name} on ${t.topic}[${t.partition}]`)
      this.#log(
        'warn',
        `stop: agents still busy after ${this.config.stopTimeoutMs} ms (${stuck.join(', ')}); their records stay uncommitted`,
      )
    }
  }

  #buffered(): number {
    let n = 0
    for (const tasks of this.#tasks.values()) for (const t of tasks) n += t.queued
    return n
  }

  async #pollLoop(): Promise<void> {
    const consumer = this.#consumer!
    while (this.#state === 'running' || this.#state === 'starting') {
      if (this.#buffered() >= this.config.maxBufferedRecords) {
        // Backpressure: the tasks are behind; stop fetching until they catch up.
        await new Promise((r) => setTimeout(r, 5))
        continue
      }
      let records: ConsumedRecord[]
      try {
        // Short polls: a stop waits for the one in progress.
        records = await consumer.poll({ timeoutMs: 100, maxRecords: 2_000 })
      } catch (error) {
        this.#fail(error instanceof Error ? error : new Error(String(error)))
        return
      }
      for (const record of records) {
        const tasks = this.#tasks.get(keyOf(record.topic, record.partition))
        if (tasks) for (const task of tasks) task.push(record)
      }
    }
  }

  /**
   * Commits, per partition, the lowest committable offset of its tasks, where it advanced. Commits
   * run one at a time, so an older offset can never land after a newer one and move the group back.
   */
  #commit(keys?: Iterable<Key>): Promise<void> {
    const next = this.#commits.then(() => this.#commitNow(keys ?? [...this.#tasks.keys()]))
    this.#commits = next.catch(() => undefined)
    return next
  }

  async #commitNow(keys: Iterable<Key>): Promise<void> {
    const consumer = this.#consumer
    if (!consumer) return
    const offsets: Array<{ topic: string; partition: number; offset: number }> = []
    for (const key of keys) {
      const tasks = this.#tasks.get(key)
      if (!tasks || tasks.length === 0) continue
      let offset = Infinity
      for (const t of tasks) offset = Math.min(offset, t.tracker.committable() ?? -1)
      if (offset < 0 || offset === this.#committed.get(key)) continue
      offsets.push({ topic: tasks[0]!.topic, partition: tasks[0]!.partition, offset })
    }
    if (offsets.length === 0) return
    await consumer.commit(offsets)
    for (const o of offsets)
      this.#committed.set(
        keyOf(o.topic, o.partition),
        Math.max(o.offset, this.#committed.get(keyOf(o.topic, o.partition)) ?? 0),
      )
  }

  /** The committed offsets this worker made, per partition it owns. */
  committedOffsets(): Array<{
    topic: string
    partition: number
    offset: number | undefined
    queued: number
  }> {
    return [...this.#tasks.values()].map((tasks) => ({
      topic: tasks[0]?.topic ?? '',
      partition: tasks[0]?.partition ?? 0,
      offset: this.#committed.get(keyOf(tasks[0]?.topic ?? '', tasks[0]?.partition ?? 0)),
      queued: tasks.reduce((n, t) => n + t.queued, 0),
    }))
  }

  /**
   * True when nothing is in flight: no fetched record waits in a task queue, every record handed to
   * a body is done and every output acknowledged. (Records not yet fetched are not seen here.)
   */
  idle(): boolean {
    for (const tasks of this.#tasks.values()) {
      for (const t of tasks) if (t.queued > 0 || t.tracker.inFlight() > 0) return false
    }
    return true
  }

  /** Commits what is done now, instead of waiting for the interval. */
  flush(): Promise<void> {
    return this.#commit()
  }

  /** Fetch positions per assigned partition task: the offset after the last record given to it. */
  positions(): Array<{ topic: string; partition: number; position: number | undefined }> {
    return [...this.#tasks.values()].flatMap((tasks) =>
      tasks.slice(0, 1).map((t) => ({ topic: t.topic, partition: t.partition, position: t.position })),
    )
  }

  assignment(): TopicPartition[] {
    return this.#consumer?.assignment() ?? []
  }

  #fail(error: Error): void {
    if (this.#failure) return
    this.#failure = error
    this.#log('error', error.message)
    void this.#shutdown().catch(() => undefined)
  }

  /** Graceful stop: finish in-flight records, commit, leave the group. Safe to call twice. */
  stop(): Promise<void> {
    return this.#shutdown()
  }

  #shutdown(): Promise<void> {
    this.#stopping ??= (async () => {
      const wasRunning = this.#state
      this.#state = 'stopping'
      clearInterval(this.#commitTimer)
      await this.#loop
      const tasks = [...this.#tasks.values()].flat()
      await this.#closeTasks(tasks)
      if (wasRunning !== 'new') {
        await this.#commit().catch((e: unknown) => this.#log('warn', `final commit failed: ${String(e)}`))
      }
      // Closed and committed: leaving the group (which revokes) has nothing more to do for them.
      this.#tasks.clear()
      await this.#consumer
        ?.close()
        .catch((e: unknown) => this.#log('warn', `leaving the group failed: ${String(e)}`))
      await this.#producer?.close().catch(() => undefined)
      this.#state = this.#failure ? 'failed' : 'stopped'
      if (this.#failure) this.#rejectDone(this.#failure)
      else this.#resolveDone()
    })()
    return this.#stopping
  }
}
