/**
 * A task (Kafka Streams' StreamTask): one sub-topology on one partition of its source topics, with
 * a stable id `<subtopology>_<partition>`. It owns an offset tracker per source partition, one
 * runner per processor (agent bodies and record processors on the same record path), its stream
 * time and its state manager; the lifecycle is in lifecycle.ts.
 *
 * Record path: the worker pushes a fetched record -> the tracker enters it, held once by each
 * processor reading its topic -> each processor's runner takes it from its queue, decodes,
 * transforms and processes it -> each releases its hold; outputs add holds until acknowledged.
 * The committable offset of a source partition is therefore the end of the prefix that every
 * processor finished and whose outputs are acknowledged (one tracker per partition, not one per
 * processor whose minimum is taken).
 */
import { coordinates, TributaryError } from '../../errors.js'
import type { ConsumedRecord, TopicPartition, TopicPartitionOffset } from '../../transport/types.js'
import type { Clock } from '../clock.js'
import type { LogLevel } from '../log.js'
import type { Delivered, HeldOutputs } from '../output/batcher.js'
import { outputCount, type Outputs, type ProcessorSpec, type Subtopology } from '../types.js'
import { AgentRunner } from './agent-runner.js'
import { checkTransition, type TaskState } from './lifecycle.js'
import { MAX_OUTPUTS_IN_FLIGHT } from './limits.js'
import { NodeRunner } from './node-runner.js'
import type { Runner } from './runner.js'
import { statelessManager, type StateManager } from './state-manager.js'
import { OffsetTracker, type TrackedEntry } from './tracker.js'

export interface TaskHost {
  readonly clock: Clock
  /** The consumer group the tasks commit in (the app id): named in the hint for skipping a record. */
  readonly groupId: string
  /** Sends records to Kafka (the worker's producer, batched); `done` gets the outcome. */
  produce(records: Outputs, done: Delivered): void
  /** The same for outputs of held input records: `owner.outputsDelivered(runner, held, ...)` gets the outcome. */
  produceHeld(records: Outputs, owner: HeldOutputs, runner: Runner, held: TrackedEntry | TrackedEntry[]): void
  /** Sends a record that could not be processed to the dead-letter topic. */
  deadLetter(record: ConsumedRecord, error: unknown, processor: string): Promise<unknown>
  log(level: LogLevel, message: string): void
  /** Called for every record a processor is done with ('in'), output acked, and error. */
  onProgress(processor: string, event: 'in' | 'out' | 'error'): void
  /** The task hit the `fail` policy, or an output could not be delivered. */
  onFailure(task: StreamTask, error: Error): void
  /** The state manager of a new task whose sub-topology has stores. */
  stateManager?(id: string, subtopology: Subtopology, partition: number): StateManager
}

/** A commit cap: while a punctuation's outputs are in flight, commits stay where they were. */
export interface Cap {
  offsets: Map<string, number | undefined>
  pending: number
  open: boolean
}

export const taskId = (subtopology: number, partition: number): string => `${subtopology}_${partition}`

export class StreamTask implements HeldOutputs {
  readonly id: string
  readonly subtopology: Subtopology
  readonly partition: number
  /** The source partitions this task reads. */
  readonly partitions: readonly TopicPartition[]
  readonly host: TaskHost
  readonly stateManager: StateManager
  readonly trackers = new Map<string, OffsetTracker>()
  readonly runners: readonly Runner[]
  readonly #byTopic = new Map<string, Runner[]>()
  readonly #positions = new Map<string, number>()
  /** The first offset pushed per topic: where a rewind goes when nothing was committed yet. */
  readonly #firsts = new Map<string, number>()
  readonly #caps = new Set<Cap>()
  #lastTopic: string | undefined
  #lastRunners: Runner[] | undefined
  #lastTracker: OffsetTracker | undefined
  #state: TaskState = 'created'
  #streamTime = -1
  #outputs = 0
  #outputWaiters: Array<() => void> = []
  #drained: Array<() => void> = []
  #failed: Error | undefined
  #closing = false
  /** When the task entered its current state (by the app's clock), for /stats. */
  since: number

  constructor(subtopology: Subtopology, partition: number, host: TaskHost, stateManager?: StateManager) {
    this.id = taskId(subtopology.id, partition)
    this.subtopology = subtopology
    this.partition = partition
    this.host = host
    this.stateManager =
      stateManager ??
      (subtopology.stores.length > 0 && host.stateManager
        ? host.stateManager(this.id, subtopology, partition)
        : statelessManager)
    this.since = host.clock.now()
    this.partitions = subtopology.sourceTopics.map((topic) => ({ topic, partition }))
    for (const topic of subtopology.sourceTopics) this.trackers.set(topic, new OffsetTracker())
    this.runners = subtopology.processors.map((spec) => this.#runner(spec))
    for (const runner of this.runners) {
      const list = this.#byTopic.get(runner.spec.topic)
      if (list) list.push(runner)
      else this.#byTopic.set(runner.spec.topic, [runner])
    }
  }

  #runner(spec: ProcessorSpec): Runner {
    const tracker = this.trackers.get(spec.topic)!
    return spec.kind === 'agent' ? new AgentRunner(this, spec, tracker) : new NodeRunner(this, spec, tracker)
  }

  get state(): TaskState {
    return this.#state
  }

  get closing(): boolean {
    return this.#closing
  }

  get failure(): Error | undefined {
    return this.#failed
  }

  #transition(to: TaskState, why = ''): void {
    checkTransition(this.id, this.#state, to)
    this.host.log('debug', `task ${this.id}: ${this.#state} -> ${to}${why ? ` (${why})` : ''}`)
    this.#state = to
    this.since = this.host.clock.now()
  }

  /** CREATED -> RESTORING -> RUNNING: restores the stores, then starts the processors. */
  async initialize(): Promise<void> {
    this.#transition('restoring')
    await this.stateManager.restore()
    if (this.#closing) return
    this.#transition('running')
    for (const runner of this.runners) runner.start()
  }

  /** A fetched record enters the task. Records of a closing task are not taken (they are refetched). */
  push(record: ConsumedRecord): void {
    if (this.#closing) return
    const topic = record.topic
    // Records come in runs of one topic: its runners and tracker are looked up once per run.
    if (topic !== this.#lastTopic) {
      const runners = this.#byTopic.get(topic)
      if (!runners) return
      this.#lastTopic = topic
      this.#lastRunners = runners
      this.#lastTracker = this.trackers.get(topic)!
    }
    const runners = this.#lastRunners!
    if (!this.#positions.has(topic)) this.#firsts.set(topic, record.offset)
    this.#positions.set(topic, record.offset + 1)
    const entry = this.#lastTracker!.hand(record, runners.length)
    for (let i = 0; i < runners.length; i++) runners[i]!.queue.push(entry)
  }

  /** Records fetched and not yet taken by the slowest processor of a topic (backpressure). */
  queued(topic?: string): number {
    let n = 0
    for (const runner of this.runners)
      if (topic === undefined || runner.spec.topic === topic) n = Math.max(n, runner.queue.length)
    return n
  }

  /** Records fetched and not yet done (queued, in process, or waiting for output acks). */
  inFlight(): number {
    let n = 0
    for (const tracker of this.trackers.values()) n += tracker.inFlight()
    return n
  }

  /**
   * True when nothing can happen until the clock moves: no record queued, no output in flight, and
   * every record not yet done held by a processor waiting on the clock (a batch being filled).
   */
  parked(): boolean {
    if (this.#outputs > 0 || this.queued() > 0) return false
    let onClock = 0
    for (const runner of this.runners) onClock += runner.heldOnClock()
    return this.inFlight() <= onClock
  }

  /** The offset of the first record this task was given of `topic`. */
  firstOffset(topic: string): number | undefined {
    return this.#firsts.get(topic)
  }

  position(topic: string): number | undefined {
    return this.#positions.get(topic)
  }

  streamTime(): number {
    return this.#streamTime
  }

  /** A processor took a record: stream time is the highest timestamp taken so far. */
  observe(timestamp: number): void {
    if (timestamp <= this.#streamTime) return
    this.#streamTime = timestamp
    for (const runner of this.runners) runner.punctuator.streamTimeAdvanced(timestamp)
  }

  /** Offsets that may be committed now, per source partition (see the file comment). */
  committable(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = []
    for (const [topic, tracker] of this.trackers) {
      let offset = tracker.committable()
      for (const cap of this.#caps) {
        const capped = cap.offsets.get(topic)
        if (capped === undefined) offset = undefined
        else if (offset !== undefined) offset = Math.min(offset, capped)
      }
      if (offset !== undefined) out.push({ topic, partition: this.partition, offset })
    }
    return out
  }

  /** The first record not yet done per partition: where a failed worker stops. */
  firstPending(): number | undefined {
    let first: number | undefined
    for (const tracker of this.trackers.values()) {
      const offset = tracker.firstPending()
      if (offset !== undefined && (first === undefined || offset < first)) first = offset
    }
    return first
  }

  get outputsInFlight(): number {
    return this.#outputs
  }

  /** Resolves once fewer than `limit` outputs are in flight. */
  async outputsBelow(limit: number): Promise<void> {
    while (this.#outputs >= limit) await new Promise<void>((resolve) => this.#outputWaiters.push(resolve))
  }

  /** Sends outputs of held records; they stay uncommitted until acknowledged. */
  produce(records: Outputs, runner: Runner, held: TrackedEntry | TrackedEntry[]): void {
    runner.tracker.hold(held)
    this.#outputs++
    // The hot path: the batcher keeps runner and held in its waiter and calls back outputsDelivered.
    this.host.produceHeld(records, this, runner, held)
  }

  /** The outcome of produce(): called by the output batcher (HeldOutputs). */
  outputsDelivered(
    runner: unknown,
    helds: readonly unknown[],
    count: number,
    error: Error | undefined,
  ): void {
    this.#outputs -= helds.length
    if (error !== undefined) this.#undelivered(error)
    else {
      const by = runner as Runner
      const tracker = by.tracker
      for (let i = 0; i < helds.length; i++) tracker.release(helds[i] as TrackedEntry | TrackedEntry[])
      for (let i = 0; i < count; i++) this.host.onProgress(by.spec.name, 'out')
    }
    this.#sent()
  }

  /**
   * Draws a commit's line (Kafka Streams gets it for free from its one thread): no record is handed
   * to a processor until resume(), and this resolves true once none is in process (records held by
   * a body waiting on the clock for a batch excepted: they have no effects yet), no punctuation
   * runs and every output is acknowledged. Then the stores hold the effects of exactly the records
   * done, all of whose outputs were delivered: a changelog flushed now is never ahead of the
   * outputs. False after `timeoutMs` (a slow body): the task is resumed and left out of this commit.
   *
   * A closing task (draining for a revocation) is waited for like any other: its record in process
   * may have written its store already, and flushing that with an offset short of the record would
   * count it twice when the next owner redoes it.
   */
  async quiesce(timeoutMs: number): Promise<boolean> {
    for (const runner of this.runners) runner.queue.hold()
    const deadline = Date.now() + timeoutMs
    while (!this.#settled()) {
      if (Date.now() > deadline) {
        this.resume()
        return false
      }
      // A ref'd timer: a commit under way keeps the process alive (the test driver has no keep-alive).
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    return true
  }

  #settled(): boolean {
    if (this.#outputs > 0 || this.#caps.size > 0) return false
    for (const runner of this.runners) if (runner.busySince() !== undefined) return false
    return true
  }

  /** Hands records to the processors again after quiesce(). */
  resume(): void {
    for (const runner of this.runners) runner.queue.release()
  }

  /** Freezes commits at what is done now, until the returned cap's outputs are acknowledged. */
  openCap(): Cap {
    const offsets = new Map<string, number | undefined>()
    for (const [topic, tracker] of this.trackers) offsets.set(topic, tracker.committable())
    const cap: Cap = { offsets, pending: 0, open: true }
    this.#caps.add(cap)
    return cap
  }

  closeCap(cap: Cap): void {
    cap.open = false
    if (cap.pending === 0) this.#caps.delete(cap)
  }

  /** Sends outputs of a punctuation: they hold the task's commits through its cap. */
  produceCapped(records: Outputs, runner: Runner, cap: Cap): void {
    cap.pending++
    const count = outputCount(records)
    this.#send(records, (error) => {
      if (error !== undefined) return this.#undelivered(error)
      for (let i = 0; i < count; i++) this.host.onProgress(runner.spec.name, 'out')
      cap.pending--
      if (cap.pending === 0 && !cap.open) this.#caps.delete(cap)
    })
  }

  #send(records: Outputs, done: (error: Error | undefined) => void): void {
    this.#outputs++
    this.host.produce(records, (error) => {
      this.#outputs--
      done(error)
      this.#sent()
    })
  }

  /** An output settled: wake who waits for room, or for no output in flight. */
  #sent(): void {
    if (this.#outputWaiters.length > 0 && this.#outputs < MAX_OUTPUTS_IN_FLIGHT / 2) {
      const waiters = this.#outputWaiters
      this.#outputWaiters = []
      for (const wake of waiters) wake()
    }
    if (this.#outputs === 0 && this.#drained.length > 0) for (const wake of this.#drained.splice(0)) wake()
  }

  #undelivered(error: Error): void {
    // A closed task's outputs no longer matter: its records are redone by whoever runs it next
    // (an aborted transaction drops them on purpose).
    if (this.#state === 'closed') return
    // An output that cannot be delivered must not be committed past: its records stay held.
    this.fail(
      new TributaryError('KAFKA', `task ${this.id}: an output could not be delivered: ${error.message}`, {
        partition: this.partition,
        cause: error,
      }),
    )
  }

  where(processor: string, topic: string): string {
    return `agent "${processor}" on ${coordinates(topic, this.partition)}`
  }

  fail(error: Error): void {
    if (this.#failed) return
    this.#failed = error
    this.#stopIntake()
    this.host.onFailure(this, error)
  }

  #stopIntake(): void {
    this.#closing = true
    for (const runner of this.runners) runner.stop()
  }

  /**
   * RUNNING -> SUSPENDED: stops taking new records, lets the processors work through the ones
   * already fetched and waits for the outputs. Draining, rather than dropping the queue, brings
   * every processor to the same offset, so the commit that follows leaves none with records to redo.
   */
  async suspend(): Promise<void> {
    if (this.#state === 'suspended' || this.#state === 'closed') return
    this.#closing = true
    for (const runner of this.runners) runner.finish()
    await Promise.all(this.runners.map((r) => r.done))
    while (this.#outputs > 0) await new Promise<void>((resolve) => this.#drained.push(resolve))
    if (this.#state === 'running' || this.#state === 'restoring') this.#transition('suspended')
  }

  /** SUSPENDED -> CLOSED clean (flushed, checkpointed by the commit before), or any -> CLOSED dirty. */
  async close(clean: boolean): Promise<void> {
    if (this.#state === 'closed') return
    // Only a suspended task has drained and committed: anything else closes dirty.
    const cleanly = clean && this.#state === 'suspended'
    if (!cleanly) this.#stopIntake()
    for (const runner of this.runners) runner.punctuator.cancelAll()
    await this.stateManager.close(cleanly)
    this.#transition('closed', cleanly ? 'clean' : 'dirty')
  }
}
