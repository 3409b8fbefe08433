/**
 * The worker (Kafka Streams' StreamThread): one member of the app's consumer group. It runs the
 * tasks the group's task assignor gave it, feeds them from one poll loop, commits through the commit
 * protocol, rides through transient faults, and shuts down gracefully.
 *
 * Boot order: identity (state directory) -> missing topics created -> producer and output batcher ->
 * consumer joins the group with the task assignor -> poll loop, commit timer, watchdog.
 * Shutdown order: stop polling -> tasks finish the records in hand and their outputs are acked
 * (suspend) -> final commit -> tasks closed -> leave the group -> close the producer -> release the
 * identity.
 *
 * Rebalances: a generation's assignment is logged in one line; revoked tasks are suspended,
 * committed and closed clean before the partitions move (the transport's cooperative protocol waits
 * for us); lost tasks (the membership expired) are closed dirty and nothing of them is committed.
 *
 * Backpressure is per partition: a partition whose task has `maxBufferedRecords` records not yet
 * taken is paused until it drained half of them, so a slow task never stalls the others.
 */
import { coordinates, TributaryError } from '../errors.js'
import type {
  Consumer,
  GenerationInfo,
  GroupAssignor,
  NewTopic,
  Producer,
  ProducerRecord,
  TopicPartition,
  TopicPartitionOffset,
  Transport,
} from '../transport/types.js'
import { partitionsByTopic } from '../transport/by-topic.js'
import { backgroundSleep, systemClock, type Clock } from './clock.js'
import { decodeAssignment, TaskAssignor } from './assignment/index.js'
import { AtLeastOnce } from './commit/at-least-once.js'
import { Committer } from './commit/committer.js'
import { ExactlyOnce } from './commit/exactly-once.js'
import type { CommitProtocol } from './commit/protocol.js'
import { Transactions } from './commit/transactions.js'
import { classify } from './faults.js'
import { claimIdentity, type WorkerIdentity } from './identity.js'
import type { LogFields, LogLevel, LogSink } from './log.js'
import { OutputBatcher } from './output/batcher.js'
import { deadLetterRecord } from './output/dead-letter.js'
import { TaskManager } from './task/manager.js'
import { StandbyManager } from './task/standbys.js'
import type { StandbyTask } from './task/standby.js'
import { TaskStores, type StateHost } from './task/stores.js'
import type { StreamTask, TaskHost } from './task/task.js'
import { createMissingTopics } from './topics.js'
import { buildSubtopologies, outputCount, type ProcessorSpec, type Subtopology } from './types.js'
import { Watchdog } from './watchdog.js'

export interface WorkerConfig {
  appId: string
  transport: Transport
  processors: ProcessorSpec[]
  /** Topics to create when missing (empty when the app does not create topics). */
  topics: NewTopic[]
  /**
   * 'exactly_once': one transactional producer per worker; outputs, changelog writes and source
   * offsets commit in one transaction per commit interval (commit/exactly-once.ts). @default 'at_least_once'
   */
  guarantee?: 'at_least_once' | 'exactly_once'
  /** @default 1000 (100 under exactly-once) */
  commitIntervalMs?: number
  /** Commit as soon as this many records were processed since the last commit. @default 10000 */
  commitEvery?: number
  /** Records of one partition fetched and not yet taken before that partition pauses. @default 2000 */
  maxBufferedRecords?: number
  /** @default 10000 */
  sessionTimeoutMs?: number
  /** @default 'earliest' */
  offsetReset?: 'earliest' | 'latest'
  /** This worker's id in logs and in the group. @default the UUID persisted in `stateDir` */
  workerId?: string
  /** Where the worker keeps its identity (and, later, its stores). Undefined: no persisted identity. */
  stateDir?: string
  /** Static group membership (KIP-345). @default none */
  groupInstanceId?: string
  /**
   * How long a graceful stop waits for agents to finish the records in hand. Past it, the stuck
   * records are left uncommitted (they are processed again after a restart) and the worker stops.
   * @default 30000
   */
  stopTimeoutMs?: number
  /** A record held by a processor this long is reported, and past it the worker leaves the group. @default 300000 */
  processingTimeoutMs?: number
  /** The app's clock: tasks, take(), punctuations, commits and the watchdog run on it. @default systemClock */
  clock?: Clock
  /**
   * Keep the Node.js process alive while the worker runs. Its background timers (poll waits,
   * heartbeats, backoffs, the system clock's timers) do not: a worker on the embedded broker
   * stays up by this handle alone. The test driver turns it off, so that a test that fails before
   * close() still ends. @default true
   */
  keepAlive?: boolean
  /** Standby copies of each task with stores, kept by other workers (task/standby.ts). @default 0 */
  standbyReplicas?: number
  /** The group assignor. @default Tributary's task assignor (runtime/assignment) */
  assignor?: (subtopologies: readonly Subtopology[], worker: Worker) => GroupAssignor
  /** This worker's ops URL, advertised to the group for interactive queries. @default none */
  advertisedUrl?: () => string | null
  /** Called once the worker knows its id, before it creates topics or joins the group (the banner). */
  onStarting?: (workerId: string) => void
  /** Called with every generation joined (the assignor's user data: host maps). */
  onGeneration?: (info: GenerationInfo) => void
  log?: LogSink
}

export interface AgentCounts {
  in: number
  out: number
  errors: number
}

/** Settings that have no default stay optional. */
type Optional =
  'log' | 'stateDir' | 'groupInstanceId' | 'assignor' | 'onGeneration' | 'advertisedUrl' | 'onStarting'
type Resolved = Required<Omit<WorkerConfig, Optional | 'workerId'>> &
  Pick<WorkerConfig, Optional> & { workerId: string }

/** A worker that dies mid-transaction holds its partitions' last stable offset this long at most. */
const TRANSACTION_TIMEOUT_MS = 10_000
const RETRY_MIN_MS = 100
const RETRY_MAX_MS = 5_000

export class Worker {
  readonly config: Resolved
  readonly counts = new Map<string, AgentCounts>()
  readonly subtopologies: readonly Subtopology[]
  readonly #tasks: TaskManager
  readonly #paused = new Map<string, TopicPartition>()
  #identity: WorkerIdentity | undefined
  #producer: Producer | undefined
  #batcher: OutputBatcher | undefined
  #consumer: Consumer | undefined
  #protocol: (CommitProtocol & { abort?: (why: string) => Promise<void> }) | undefined
  #transactions: Transactions | undefined
  #committer: Committer | undefined
  #watchdog: Watchdog | undefined
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed' = 'new'
  #loop: Promise<void> | undefined
  #commitTimer: unknown
  #keepAlive: NodeJS.Timeout | undefined
  #sinceCommit = 0
  #failure: Error | undefined
  #outage: { since: number; error: unknown } | undefined
  #stopping: Promise<void> | undefined
  /** halt() ran: nothing more is committed, even by the rebalance callbacks of the consumer's close. */
  #halted = false
  #rejoining: Promise<void> | undefined
  #generation: GenerationInfo | undefined
  /** The tasks the latest plan gives this worker (pending hand-overs included): advertised at the next join. */
  #planned: string[] = []
  /** The standby tasks the latest plan gives this worker. */
  #standbyPlan: readonly string[] = []
  readonly #standbys: StandbyManager
  /** The partitions of the last generation, for what the next one assigns and revokes. */
  #owned: TopicPartition[] = []
  #hosts: ReadonlyMap<string, readonly TopicPartition[]> = new Map()
  /** Partition counts of the source topics of sub-topologies with stores (the tables' key check). */
  readonly #partitionCounts = new Map<string, number>()
  #resolveDone!: () => void
  #rejectDone!: (error: Error) => void
  /** Settles when the worker stopped: resolves after stop(), rejects with the failure that stopped it. */
  readonly done: Promise<void>

  constructor(config: WorkerConfig) {
    const exactlyOnce = config.guarantee === 'exactly_once'
    this.config = {
      guarantee: 'at_least_once',
      commitIntervalMs: exactlyOnce ? 100 : 1000,
      commitEvery: 10_000,
      maxBufferedRecords: 2_000,
      sessionTimeoutMs: 10_000,
      offsetReset: 'earliest',
      stopTimeoutMs: 30_000,
      processingTimeoutMs: 300_000,
      standbyReplicas: 0,
      clock: systemClock,
      keepAlive: true,
      ...config,
      workerId: config.workerId ?? '',
    }
    this.subtopologies = buildSubtopologies(config.processors)
    this.#tasks = new TaskManager(this.subtopologies, this.#host)
    this.#standbys = new StandbyManager(this.subtopologies, () => this.#stateHost)
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

  /** This worker's id (known once started: the persisted UUID unless overridden). */
  get workerId(): string {
    return this.config.workerId
  }

  /** The state directory slot this worker claimed (undefined without a state directory). */
  get stateDirectory(): string | undefined {
    return this.#identity?.dir
  }

  get generation(): GenerationInfo | undefined {
    return this.#generation
  }

  /** The group's host map from the latest assignment: ops URL -> source partitions of its tasks. */
  get hosts(): ReadonlyMap<string, readonly TopicPartition[]> {
    return this.#hosts
  }

  #log(level: LogLevel, message: string, fields?: LogFields): void {
    if (this.config.log) this.config.log(level, message, fields)
    else if (level === 'warn' || level === 'error')
      console.error(`[${this.config.workerId}] ${level}: ${message}`)
  }

  get #host(): TaskHost {
    return {
      clock: this.config.clock,
      groupId: this.config.appId,
      produce: (records, done) => {
        if (this.#batcher) this.#batcher.enqueue(records, done)
        else done(new TributaryError('CLOSED', 'The worker is not running'))
      },
      produceHeld: (records, owner, runner, held) => {
        if (this.#batcher) this.#batcher.enqueueHeld(records, owner, runner, held)
        else
          owner.outputsDelivered(
            runner,
            [held],
            outputCount(records),
            new TributaryError('CLOSED', 'The worker is not running'),
          )
      },
      deadLetter: (record, error, processor) =>
        this.send([deadLetterRecord(this.config.appId, record, error, processor)]),
      log: (level, message) => this.#log(level, message),
      onProgress: (processor, event) => {
        const counts = this.counts.get(processor)
        if (counts) counts[event === 'error' ? 'errors' : event]++
        if (event === 'in' && ++this.#sinceCommit >= this.config.commitEvery) {
          this.#sinceCommit = 0
          void this.#commit().catch((e: unknown) => this.#commitFailed(e))
        }
      },
      onFailure: (_task, error) => this.#fail(error),
      stateManager: (id, subtopology, partition) =>
        new TaskStores(id, partition, subtopology.sourceTopics, subtopology.stores, this.#stateHost),
    }
  }

  /** Under exactly-once, what this worker reads of its own topics is only what was committed. */
  get #isolation(): 'read_committed' | 'read_uncommitted' {
    return this.config.guarantee === 'exactly_once' ? 'read_committed' : 'read_uncommitted'
  }

  get #stateHost(): StateHost {
    const { transport, clock } = this.config
    const isolationLevel = this.#isolation
    return {
      clock,
      guarantee: this.config.guarantee,
      stateDir: this.#identity?.dir,
      workerId: this.config.workerId,
      sendChangelog: (records, done) => {
        if (this.#batcher) this.#batcher.enqueue(records, done, true)
        else done(new TributaryError('CLOSED', 'The worker is not running'))
      },
      restoreConsumer: () =>
        transport.consumer({ clientId: `${this.config.workerId}-restore`, isolationLevel }),
      endOffset: async (topic, partition) => {
        const ends = await transport.admin().listOffsets(topic, 'latest', { isolationLevel })
        const end = ends.find((o) => o.partition === partition)
        if (end === undefined)
          throw new TributaryError('KAFKA', `changelog ${topic} has no partition ${partition}`, {
            topic,
            partition,
          })
        return end.offset
      },
      adopt: (taskId) => this.#standbys.adopt(taskId),
      partitions: (topic) => this.#partitionCounts.get(topic),
      log: (level, message, fields) => this.#log(level, message, fields),
    }
  }

  /** Sends records from outside any agent (app.send, topic.send in a timer), batched with the tasks' outputs. */
  send(records: ProducerRecord[]): ReturnType<Producer['send']> {
    if (!this.#batcher) return Promise.reject(new TributaryError('CLOSED', 'The worker is not running'))
    return this.#batcher.send(records)
  }

  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new TributaryError('INVALID_ARGUMENT', `The worker was already started (${this.#state})`)
    this.#state = 'starting'
    // Ref'd for as long as the worker runs: cleared at the end of #shutdown, or by a failed start.
    if (this.config.keepAlive) this.#keepAlive = setInterval(() => undefined, 1 << 30)
    try {
      await this.#begin()
    } catch (error) {
      clearInterval(this.#keepAlive)
      throw error
    }
  }

  async #begin(): Promise<void> {
    const { transport, appId, stateDir } = this.config
    if (stateDir !== undefined) this.#identity = claimIdentity(stateDir)
    if (this.config.workerId === '') this.config.workerId = this.#identity?.id ?? `${appId}-${process.pid}`
    this.config.onStarting?.(this.config.workerId)
    try {
      await createMissingTopics(transport.admin(), this.config.topics)
      await this.#countPartitions()
    } catch (error) {
      this.#identity?.release()
      this.#state = 'failed'
      throw error
    }
    if (this.config.guarantee === 'exactly_once') {
      // The transactional id is the app's and the worker's persisted id (never the pid): a restarted
      // worker fences its former self and aborts the transaction it left open at once.
      const producer = transport.producer({
        clientId: this.config.workerId,
        transactionalId: `${appId}-${this.config.workerId}`,
        transactionTimeoutMs: TRANSACTION_TIMEOUT_MS,
      })
      this.#producer = producer
      const transactions = (this.#transactions = new Transactions(producer))
      this.#batcher = new OutputBatcher((records) => transactions.send(records))
    } else {
      const producer = transport.producer({ clientId: this.config.workerId })
      this.#producer = producer
      this.#batcher = new OutputBatcher((records) => producer.send(records))
    }
    const topics = this.#sourceTopics()
    if (topics.length > 0) {
      await this.#join()
      // stop() may have come while joining: it has closed the consumer, so do not start the loop.
      if (this.#state !== 'starting') return
      this.#loop = this.#pollLoop()
    }
    if (this.#state !== 'starting') return
    this.#armCommitTimer()
    this.#watchdog = new Watchdog(this.config.clock, this.config.processingTimeoutMs, {
      tasks: () => this.#tasks.tasks(),
      log: (level, message) => this.#log(level, message),
      leave: (why) => this.#rejoin(why),
    })
    this.#state = 'running'
    this.#log(
      'debug',
      `worker ${this.config.workerId} of app ${appId} is running (topics: ${topics.join(', ') || 'none'})`,
    )
  }

  /** Partition counts of the topics that tasks with stores read (the tables' key check, stores.ts). */
  async #countPartitions(): Promise<void> {
    const topics = [
      ...new Set(this.subtopologies.filter((s) => s.stores.length > 0).flatMap((s) => s.sourceTopics)),
    ]
    if (topics.length === 0) return
    for (const d of await this.config.transport.admin().describeTopics(topics))
      this.#partitionCounts.set(d.topic, d.partitions.length)
  }

  #sourceTopics(): string[] {
    return [...new Set(this.subtopologies.flatMap((s) => s.sourceTopics))]
  }

  /** Joins the group on a new consumer (at start, and after leaving on a stuck processor). */
  async #join(): Promise<void> {
    const { transport, appId } = this.config
    const consumer = transport.consumer({
      groupId: appId,
      clientId: this.config.workerId,
      offsetReset: this.config.offsetReset,
      sessionTimeoutMs: this.config.sessionTimeoutMs,
      isolationLevel: this.#isolation,
      ...(this.config.groupInstanceId ? { groupInstanceId: this.config.groupInstanceId } : {}),
    })
    this.#consumer = consumer
    this.#protocol =
      this.config.guarantee === 'exactly_once'
        ? new ExactlyOnce({
            consumer,
            transactions: this.#transactions!,
            batcher: this.#batcher!,
            tasks: () => this.#tasks.tasks(),
            rewind: (why) => this.#rewindAll(why),
            quiesceMs: this.config.processingTimeoutMs,
          })
        : new AtLeastOnce(consumer)
    this.#committer = new Committer(this.#protocol)
    const assignor = this.config.assignor?.(this.subtopologies, this) ?? this.#taskAssignor()
    await consumer.subscribe(
      this.#sourceTopics(),
      {
        onGeneration: (info) => this.#onGeneration(info),
        onAssigned: (partitions) => this.#assign(partitions),
        onRevoked: (partitions) => this.#revoke(partitions),
        onLost: (partitions) => this.#lose(partitions),
        onRebalanceStarting: () => {
          void this.#commit().catch((e: unknown) =>
            this.#log('info', `commit at rebalance start refused: ${String(e)}`),
          )
        },
      },
      { assignor },
    )
  }

  /** Tributary's task assignor, advertising this worker's id, ops URL and latest tasks. */
  #taskAssignor(): GroupAssignor {
    return new TaskAssignor({
      subtopologies: () => this.subtopologies,
      self: () => ({
        workerId: this.config.workerId,
        url: this.config.advertisedUrl?.() ?? null,
        ownedTasks: this.#planned,
        taskOffsets: this.#taskOffsets(),
      }),
      standbyReplicas: this.config.standbyReplicas,
      onWarning: (message) => this.#log('warn', `task assignor: ${message}`),
    })
  }

  /** Per task with stores here (active or standby), the changelog offsets its stores hold. */
  #taskOffsets(): Record<string, number> {
    const offsets = this.#standbys.offsets()
    for (const task of this.#tasks.tasks())
      if (task.stateManager.stateful)
        offsets[task.id] = Math.max(offsets[task.id] ?? 0, task.stateManager.offsets())
    return offsets
  }

  #reconcileStandbys(): void {
    this.#standbys.reconcile(this.#standbyPlan, this.#planned, (id) => this.#tasks.get(id) !== undefined)
  }

  #onGeneration(info: GenerationInfo): void {
    this.#generation = info
    if (info.assignment.userData !== null) {
      try {
        const plan = decodeAssignment(info.assignment.userData, info.assignment.partitions)
        this.#planned = [...plan.tasks.keys()]
        this.#hosts = plan.hosts
        this.#standbyPlan = plan.standbys
      } catch (error) {
        this.#log('warn', `generation ${info.generation}: ${String(error)}`)
      }
    }
    const owns = info.assignment.partitions
    const before = new Set(this.#owned.map(tpText))
    const now = new Set(owns.map(tpText))
    const assigned = owns.filter((tp) => !before.has(tpText(tp)))
    const revoked = this.#owned.filter((tp) => !now.has(tpText(tp)))
    this.#owned = [...owns]
    this.#log(
      'info',
      `worker ${this.config.workerId}: generation ${info.generation}${info.leader ? ' (leader)' : ''} assigns ` +
        `${partitionsText(owns) || 'nothing'} (assigned ${partitionsText(assigned) || 'none'}, revoked ${partitionsText(revoked) || 'none'})`,
      {
        event: 'rebalance',
        workerId: this.config.workerId,
        generation: info.generation,
        leader: info.leader,
        partitions: owns.map(tpText),
        assigned: assigned.map(tpText),
        revoked: revoked.map(tpText),
      },
    )
    this.#reconcileStandbys()
    this.config.onGeneration?.(info)
  }

  #assign(partitions: TopicPartition[]): void {
    for (const task of this.#tasks.create(partitions)) {
      task
        .initialize()
        .catch((error: unknown) => this.#fail(error instanceof Error ? error : new Error(String(error))))
    }
  }

  async #revoke(partitions: TopicPartition[]): Promise<void> {
    if (this.#halted) return
    const tasks = this.#tasks.tasksOf(partitions)
    await this.#suspend(tasks)
    try {
      await this.#committer?.commit(() => tasks)
    } catch (error) {
      // Refused only when the membership itself was lost (session expired): then another member owns them.
      this.#log(
        'warn',
        `commit of revoked partitions failed (they will be reprocessed from the last commit): ${String(error)}`,
      )
    }
    await Promise.all(tasks.map((t) => t.close(true)))
    this.#drop(tasks, partitions)
  }

  /** The membership was lost: another member may own these already, so nothing is committed. */
  async #lose(partitions: TopicPartition[]): Promise<void> {
    const tasks = this.#tasks.tasksOf(partitions)
    if (tasks.length > 0)
      this.#log(
        'warn',
        `tasks ${tasks.map((t) => t.id).join(', ')} were lost (the group moved on without this worker); closing them dirty`,
      )
    await Promise.all(tasks.map((t) => t.close(false)))
    this.#drop(tasks, partitions)
    // Their outputs are in the worker's open transaction: it aborts, and the other tasks redo theirs.
    if (this.config.guarantee === 'exactly_once' && tasks.length > 0)
      await this.#committer
        ?.run(() => this.#protocol!.abort!(`tasks ${tasks.map((t) => t.id).join(', ')} were lost`))
        .catch((e: unknown) => this.#log('warn', `aborting the transaction failed: ${String(e)}`))
  }

  /**
   * Exactly-once: every task is closed dirty (its store is rebuilt from the committed changelog)
   * and started again from the group's committed offsets, after an aborted transaction.
   */
  async #rewindAll(why: string): Promise<void> {
    const consumer = this.#consumer
    const tasks = this.#tasks.tasks()
    if (tasks.length === 0) return
    this.#log(
      'warn',
      `${why}: the transaction was aborted; tasks ${tasks.map((t) => t.id).join(', ')} start again from their last commit`,
    )
    await Promise.all(tasks.map((t) => t.close(false)))
    this.#tasks.remove(tasks)
    const partitions = tasks.flatMap((t) => [...t.partitions])
    if (!consumer) return
    // The committed offsets must be known: going back further would redo committed work twice.
    let committed: TopicPartitionOffset[] | undefined
    for (let backoff = RETRY_MIN_MS; committed === undefined; backoff = Math.min(backoff * 2, RETRY_MAX_MS)) {
      try {
        committed = await consumer.committed(partitions)
      } catch (error) {
        if (classify(error) !== 'transient' || !this.#active()) throw error
        await backgroundSleep(backoff)
      }
    }
    const at = new Map(committed.map((o) => [`${o.topic}:${o.partition}`, o.offset]))
    for (const task of tasks) {
      for (const tp of task.partitions) {
        // Never committed: back to the first record the task was given (none given: nothing to redo).
        const offset = at.get(`${tp.topic}:${tp.partition}`) ?? task.firstOffset(tp.topic)
        if (offset !== undefined) consumer.seek({ ...tp, offset })
      }
    }
    for (const tp of partitions) this.#paused.delete(`${tp.topic}:${tp.partition}`)
    if (this.#active()) this.#assign(partitions)
  }

  #drop(tasks: StreamTask[], partitions: TopicPartition[]): void {
    this.#tasks.remove(tasks)
    this.#protocol?.forget(partitions)
    for (const { topic, partition } of partitions) this.#paused.delete(`${topic}:${partition}`)
    // A task given up here may be one this worker now keeps a standby copy of.
    this.#reconcileStandbys()
  }

  /**
   * Suspends tasks: each finishes the records in hand and their outputs. Past stopTimeoutMs the
   * stuck ones are given up: their records stay uncommitted and are processed again after a restart.
   */
  async #suspend(tasks: StreamTask[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const suspended = await Promise.race([
      Promise.all(tasks.map((t) => t.suspend())).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.config.stopTimeoutMs))),
    ])
    clearTimeout(timer)
    if (!suspended) {
      const stuck = tasks
        .filter((t) => t.inFlight() > 0)
        .flatMap((t) =>
          t.runners
            .filter((r) => r.busySince() !== undefined || r.queue.length > 0)
            .map((r) => `${r.spec.name} on ${coordinates(r.spec.topic, t.partition)} (task ${t.id})`),
        )
      this.#log(
        'warn',
        `stop: agents still busy after ${this.config.stopTimeoutMs} ms (${stuck.join(', ')}); their records stay uncommitted`,
      )
    }
  }

  async #pollLoop(): Promise<void> {
    let backoff = RETRY_MIN_MS
    while (this.#active()) {
      if (this.#rejoining) await this.#rejoining
      const consumer = this.#consumer
      if (!consumer || !this.#active()) break
      this.#resumeDrained(consumer)
      const assigned = consumer.assignment().length
      if (assigned > 0 && this.#paused.size >= assigned) {
        // Every partition waits for its task: nothing to fetch until one drained.
        await backgroundSleep(2)
        continue
      }
      let records
      try {
        // Short polls: a stop waits for the one in progress. Shorter still while a partition is
        // paused: its task drains meanwhile, and it is resumed only between polls.
        records = await consumer.poll({ timeoutMs: this.#paused.size > 0 ? 5 : 100, maxRecords: 2_000 })
      } catch (error) {
        if (consumer !== this.#consumer) continue
        if (!this.#pollFailed(error)) return
        await backgroundSleep(backoff)
        backoff = Math.min(backoff * 2, RETRY_MAX_MS)
        continue
      }
      backoff = RETRY_MIN_MS
      if (this.#outage) {
        this.#log(
          'info',
          `the broker answers again: resumed after ${Math.round((Date.now() - this.#outage.since) / 1000)} s`,
        )
        this.#outage = undefined
      }
      const budget = this.config.maxBufferedRecords
      // A poll hands out runs of one partition's records: look its task up once per run, not per record.
      let task: StreamTask | undefined
      let topic: string | undefined
      let partition = -1
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!
        if (record.partition !== partition || record.topic !== topic) {
          topic = record.topic
          partition = record.partition
          task = this.#tasks.taskFor(topic, partition)
        }
        task?.push(record)
      }
      if (records.length > 0) this.#pauseFull(consumer, budget)
    }
  }

  #active(): boolean {
    return this.#state === 'running' || this.#state === 'starting'
  }

  #pauseFull(consumer: Consumer, budget: number): void {
    for (const task of this.#tasks.tasks()) {
      for (const tp of task.partitions) {
        const k = `${tp.topic}:${tp.partition}`
        if (!this.#paused.has(k) && task.queued(tp.topic) >= budget) {
          this.#paused.set(k, tp)
          consumer.pause([tp])
        }
      }
    }
  }

  #resumeDrained(consumer: Consumer): void {
    if (this.#paused.size === 0) return
    const half = this.config.maxBufferedRecords / 2
    const resume: TopicPartition[] = []
    for (const [k, tp] of this.#paused) {
      const task = this.#tasks.taskFor(tp.topic, tp.partition)
      if (!task || task.queued(tp.topic) < half) {
        this.#paused.delete(k)
        resume.push(tp)
      }
    }
    if (resume.length > 0) consumer.resume(resume)
  }

  /** Sorts a poll failure (faults.ts); false when it stopped the worker. */
  #pollFailed(error: unknown): boolean {
    // A consumer fenced in its group is a static member whose instance id another process took
    // (KIP-345): two workers claim one identity, and only stopping this one ends it.
    if (error instanceof TributaryError && error.code === 'FENCED') {
      this.#fail(
        new TributaryError(
          'FENCED',
          `${error.message} (another worker runs with groupInstanceId ${this.config.groupInstanceId ?? '(none)'}; this one stops)`,
          { cause: error },
        ),
      )
      return false
    }
    const kind = classify(error)
    if (kind === 'transient') {
      if (!this.#outage) {
        this.#outage = { since: Date.now(), error }
        this.#log('warn', `${String(error)}; retrying until the broker answers (tasks are kept)`)
      }
      return true
    }
    if (kind === 'migrated') {
      this.#log('warn', `${String(error)}; the group rebalances and this worker rejoins`)
      return true
    }
    if (kind === 'corrupted' && error instanceof TributaryError && error.topic !== undefined) {
      this.#log(
        'warn',
        `${String(error)}; rewinding ${coordinates(error.topic, error.partition)} to its last commit`,
      )
      void this.#rewind(error.topic, error.partition ?? 0)
      return true
    }
    this.#fail(error instanceof Error ? error : new Error(String(error)))
    return false
  }

  /** A task whose position cannot be trusted: closed dirty and started again from its last commit. */
  async #rewind(topic: string, partition: number): Promise<void> {
    const consumer = this.#consumer
    const task = this.#tasks.taskFor(topic, partition)
    if (!consumer || !task) return
    await task.close(false)
    this.#tasks.remove([task])
    const committed = await consumer.committed([...task.partitions]).catch(() => [])
    for (const o of committed) consumer.seek(o)
    this.#assign([...task.partitions])
  }

  /** Leaves the group and joins again on a new consumer (the watchdog found a stuck processor). */
  #rejoin(why: string): Promise<void> {
    this.#rejoining ??= (async () => {
      this.#log('error', `${why}; leaving the group so that its partitions move, then rejoining`)
      const old = this.#consumer
      // Closing runs onRevoked: the tasks are suspended (bounded by stopTimeoutMs) and committed.
      await old?.close().catch((e: unknown) => this.#log('warn', `leaving the group failed: ${String(e)}`))
      if (this.#state === 'running') await this.#join()
    })().finally(() => (this.#rejoining = undefined))
    return this.#rejoining
  }

  #armCommitTimer(): void {
    const { clock, commitIntervalMs } = this.config
    this.#commitTimer = clock.setTimeout(() => {
      if (this.#state !== 'running') return
      void this.#commit().catch((e: unknown) => this.#commitFailed(e))
      this.#armCommitTimer()
    }, commitIntervalMs)
    // Node's handle (system clock) must not keep the process alive.
    ;(this.#commitTimer as { unref?: () => void } | undefined)?.unref?.()
  }

  #commit(): Promise<void> {
    return this.#committer ? this.#committer.commit(() => this.#tasks.tasks()) : Promise.resolve()
  }

  #commitFailed(error: unknown): void {
    if (
      this.config.guarantee === 'exactly_once' &&
      error instanceof TributaryError &&
      error.code === 'FENCED'
    ) {
      // Another process took this worker's transactional id (the same workerId or state directory):
      // this one is the zombie, and only stopping it ends that.
      this.#fail(
        new TributaryError(
          'FENCED',
          `${error.message} (another worker runs as ${this.config.workerId}, with transactional id ${this.config.appId}-${this.config.workerId}; this one stops)`,
          { cause: error },
        ),
      )
      return
    }
    const kind = classify(error)
    if (kind === 'fatal')
      this.#fail(new TributaryError('KAFKA', `commit failed: ${String(error)}`, { cause: error }))
    else this.#log('warn', `commit failed (${kind}; the next commit tries again): ${String(error)}`)
  }

  /** Transactions this worker committed (exactly-once; 0 otherwise). */
  get transactionsCommitted(): number {
    return this.#transactions?.committed ?? 0
  }

  /** A source topic's partition count, as read at start (topics read by tasks with stores only). */
  partitionCount(topic: string): number | undefined {
    return this.#partitionCounts.get(topic)
  }

  /** The standby tasks this worker keeps, in id order. */
  standbys(): StandbyTask[] {
    return this.#standbys.list()
  }

  /** The tasks this worker runs, for /stats. */
  tasks(): StreamTask[] {
    return this.#tasks.tasks()
  }

  /** Committed offsets (by this worker) per source partition it owns, with records queued. */
  committedOffsets(): Array<{
    topic: string
    partition: number
    offset: number | undefined
    queued: number
  }> {
    const committed = this.#protocol?.committed
    return this.#tasks.tasks().flatMap((task) =>
      task.partitions.map(({ topic, partition }) => ({
        topic,
        partition,
        offset: committed?.get(`${topic}\u0000${partition}`),
        queued: task.queued(topic),
      })),
    )
  }

  /**
   * True when nothing is in flight: no fetched record waits in a task queue, every record handed to
   * a processor is done and every output acknowledged. (Records not yet fetched are not seen here.)
   */
  idle(): boolean {
    return this.#tasks.tasks().every((t) => t.inFlight() === 0 && t.outputsInFlight === 0)
  }

  /** Like idle(), but records a processor holds while it waits on the clock (a batch) count as settled. */
  parked(): boolean {
    return this.#tasks.tasks().every((t) => t.parked())
  }

  /**
   * Asks the group for a rebalance (e.g. after what this worker advertises changed); the task
   * assignor then plans again with every member's latest user data.
   */
  enforceRebalance(reason = 'requested'): void {
    this.#log('info', `worker ${this.config.workerId}: rebalance requested (${reason})`)
    this.#consumer?.enforceRebalance(reason)
  }

  /** Commits what is done now, instead of waiting for the interval. */
  flush(): Promise<void> {
    return this.#commit()
  }

  /** Fetch positions per source partition: the offset after the last record given to its task. */
  positions(): Array<{ topic: string; partition: number; position: number | undefined }> {
    return this.#tasks
      .tasks()
      .flatMap((task) =>
        task.partitions.map(({ topic, partition }) => ({ topic, partition, position: task.position(topic) })),
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

  /**
   * Stops as a killed process would (for the test driver's restart with `crash`): no final commit,
   * no flush, no checkpoint; the tasks are closed dirty and an open transaction is left to abort.
   */
  halt(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#halted = true
      this.#state = 'stopping'
      this.config.clock.clearTimeout(this.#commitTimer)
      this.#watchdog?.stop()
      const tasks = this.#tasks.tasks()
      await Promise.all(tasks.map((t) => t.close(false)))
      this.#tasks.remove(tasks)
      await this.#standbys.close()
      await this.#loop
      await this.#consumer?.close().catch(() => undefined)
      await this.#producer?.close().catch(() => undefined)
      this.#identity?.release()
      clearInterval(this.#keepAlive)
      this.#state = 'stopped'
      this.#resolveDone()
    })()
    return this.#stopping
  }

  /** Graceful stop: finish in-flight records, commit, leave the group. Safe to call twice. */
  stop(): Promise<void> {
    return this.#shutdown()
  }

  #shutdown(): Promise<void> {
    this.#stopping ??= (async () => {
      const wasRunning = this.#state
      this.#state = 'stopping'
      this.config.clock.clearTimeout(this.#commitTimer)
      this.#watchdog?.stop()
      await this.#loop
      await this.#rejoining
      // Every task finishes what it holds (a failed one has stopped already: nothing past its
      // failed record is done), so the final commit covers all that was processed.
      const tasks = this.#tasks.tasks()
      await this.#suspend(tasks)
      if (wasRunning !== 'new') {
        await this.#commit().catch((e: unknown) => this.#log('warn', `final commit failed: ${String(e)}`))
      }
      await Promise.all(tasks.map((t) => t.close(t.failure === undefined)))
      // Closed and committed: leaving the group (which revokes) has nothing more to do for them.
      this.#tasks.remove(tasks)
      await this.#standbys.close()
      await this.#consumer
        ?.close()
        .catch((e: unknown) => this.#log('warn', `leaving the group failed: ${String(e)}`))
      await this.#producer?.close().catch(() => undefined)
      this.#identity?.release()
      clearInterval(this.#keepAlive)
      this.#state = this.#failure ? 'failed' : 'stopped'
      if (this.#failure) this.#rejectDone(this.#failure)
      else this.#resolveDone()
    })()
    return this.#stopping
  }
}

const tpText = (tp: TopicPartition): string => `${tp.topic}[${tp.partition}]`

/** `orders[0,2] payments[1]`: partitions grouped by topic, topics sorted. */
function partitionsText(partitions: readonly TopicPartition[]): string {
  return partitionsByTopic(partitions)
    .map(([topic, ps]) => `${topic}[${ps.join(',')}]`)
    .join(' ')
}
