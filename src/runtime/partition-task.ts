/**
 * A partition task: one processor on one assigned partition. It owns a bounded queue of fetched
 * records, the offset tracker, and the agent body, which it restarts after a record that the `skip`
 * or `dlq` policy took.
 *
 * Lifecycle: running -> (close) -> draining: no record is added, the body works through the queue,
 * outputs are awaited -> closed. `fail` ends the task with a ProcessingError; the worker then stops.
 *
 * Concurrency: `spec.concurrency` copies of the body (lanes) take records from the one queue. Each
 * lane tracks its own records in process; the tracker commits only the prefix done by all, so
 * at-least-once holds, but records of one key may then finish out of order (as in Faust).
 */
import { TributaryError, coordinates } from '../errors.js'
import type { ConsumedRecord, ProducerRecord } from '../transport/types.js'
import type { Delivered } from './output-batcher.js'
import type { TaskContext } from './context.js'
import { AgentStream } from '../streams/agent-stream.js'
import { applyOps, DROPPED } from './operators.js'
import { OffsetTracker, type TrackedEntry } from './tracker.js'
import type { AnyEvent, ProcessorSpec } from './types.js'

export interface TaskHost {
  /** Sends records to Kafka (the worker's producer, batched); `done` gets the outcome. */
  produce(records: ProducerRecord[], done: Delivered): void
  /** Sends a record that could not be processed to the dead-letter topic. */
  deadLetter(record: ConsumedRecord, error: unknown, processor: string): Promise<unknown>
  log(level: 'info' | 'warn' | 'error', message: string): void
  /** Called on every record done, for commit-by-count and stats. */
  onProgress(task: PartitionTask, event: 'in' | 'out' | 'error'): void
  /** The task hit the `fail` policy, or an output could not be delivered. */
  onFailure(task: PartitionTask, error: Error): void
}

/**
 * Outputs a task may have unacknowledged before its bodies wait for acks: bodies that do not await
 * their sends (forwarders, sinks) would otherwise run ahead of a slow broker without bound.
 */
export const MAX_OUTPUTS_IN_FLIGHT = 10_000

/** Pause before restarting a body that returned, so a body that returns at once cannot spin. */
const RESTART_DELAY_MS = 100

export class PartitionTask {
  readonly spec: ProcessorSpec
  readonly topic: string
  readonly partition: number
  readonly tracker = new OffsetTracker()
  readonly host: TaskHost
  readonly #queue: ConsumedRecord[] = []
  #waiters: Array<() => void> = []
  #closing = false
  #position: number | undefined
  #failed: Error | undefined
  #done: Promise<void> | undefined
  #outputs = 0
  #outputsDrained: (() => void) | undefined
  #outputWaiters: Array<() => void> = []

  constructor(spec: ProcessorSpec, partition: number, host: TaskHost) {
    this.spec = spec
    this.topic = spec.topic
    this.partition = partition
    this.host = host
  }

  get queued(): number {
    return this.#queue.length
  }

  get closing(): boolean {
    return this.#closing
  }

  get failure(): Error | undefined {
    return this.#failed
  }

  /** The offset after the last record pushed to this task (its fetch position). */
  get position(): number | undefined {
    return this.#position
  }

  push(record: ConsumedRecord): void {
    if (this.#closing) return
    this.#position = record.offset + 1
    this.#queue.push(record)
    this.#waiters.shift()?.()
  }

  /** The next queued record, or undefined when the queue is empty. */
  take(): ConsumedRecord | undefined {
    return this.#queue.shift()
  }

  /**
   * Resolves true when a record was pushed or the task is closing, or false after `ms` (then the
   * waiter is withdrawn, so that a later record wakes a lane that is really waiting).
   */
  waitForRecord(ms?: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer =
        ms === undefined
          ? undefined
          : setTimeout(() => {
              const i = this.#waiters.indexOf(wake)
              if (i >= 0) this.#waiters.splice(i, 1)
              resolve(false)
            }, ms)
      this.#waiters.push(wake)
    })
  }

  /** Outputs sent and not yet acknowledged. */
  get outputsInFlight(): number {
    return this.#outputs
  }

  /** Resolves once fewer than `limit` outputs are in flight. */
  async outputsBelow(limit: number): Promise<void> {
    while (this.#outputs >= limit) {
      await new Promise<void>((resolve) => this.#outputWaiters.push(resolve))
    }
  }

  #wakeAll(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }

  start(): void {
    if (this.#done) return
    const lanes = Array.from({ length: Math.max(1, this.spec.concurrency) }, () => new Lane(this))
    this.#done = Promise.all(lanes.map((lane) => lane.run())).then(() => undefined)
  }

  /**
   * Stops taking new records, lets the body work through the ones already fetched, and waits for
   * the outputs. Draining, rather than dropping the queue, brings every processor of the partition
   * to the same offset, so the commit that follows leaves no processor with records to redo.
   */
  async close(): Promise<void> {
    this.#closing = true
    this.#wakeAll()
    await this.#done
    while (this.#outputs > 0) {
      await new Promise<void>((resolve) => (this.#outputsDrained = resolve))
      this.#outputsDrained = undefined
    }
  }

  /** Sends outputs of the held records; they stay uncommitted until acknowledged. */
  produce(records: ProducerRecord[], held: TrackedEntry | TrackedEntry[]): void {
    const count = records.length
    this.tracker.hold(held)
    this.#outputs++
    this.host.produce(records, (error) => {
      this.#outputs--
      if (error === undefined) {
        this.tracker.release(held)
        for (let i = 0; i < count; i++) this.host.onProgress(this, 'out')
      } else {
        // An output that cannot be delivered must not be committed past: the records stay held.
        this.fail(
          new TributaryError('KAFKA', `${this.where()}: an output could not be delivered: ${error.message}`, {
            topic: this.topic,
            partition: this.partition,
            cause: error,
          }),
        )
      }
      if (this.#outputWaiters.length > 0 && this.#outputs < MAX_OUTPUTS_IN_FLIGHT / 2) {
        const waiters = this.#outputWaiters
        this.#outputWaiters = []
        for (const wake of waiters) wake()
      }
      if (this.#outputs === 0) this.#outputsDrained?.()
    })
  }

  where(): string {
    return `agent "${this.spec.name}" on ${coordinates(this.topic, this.partition)}`
  }

  fail(error: Error): void {
    if (this.#failed) return
    this.#failed = error
    this.#closing = true
    this.#queue.length = 0
    this.#wakeAll()
    this.host.onFailure(this, error)
  }

  /** Applies the error policy to records that could not be decoded or processed. */
  async reject(entries: TrackedEntry[], error: unknown, what: string): Promise<void> {
    const first = entries[0]!.record
    const message = `${this.where()}: record ${coordinates(first.topic, first.partition, first.offset)} ${what}: ${
      error instanceof Error ? error.message : String(error)
    }`
    this.host.onProgress(this, 'error')
    if (this.spec.errors === 'fail') {
      this.fail(
        new TributaryError('KAFKA', message, {
          topic: first.topic,
          partition: first.partition,
          offset: first.offset,
          cause: error,
        }),
      )
      return
    }
    if (this.spec.errors === 'skip') {
      this.host.log('warn', `${message} (skipped)`)
    } else {
      this.host.log('warn', `${message} (sent to the dead-letter topic)`)
      this.tracker.hold(entries)
      await Promise.all(entries.map((e) => this.host.deadLetter(e.record, error, this.spec.name))).then(
        () => this.tracker.release(entries),
        (e: unknown) =>
          this.fail(
            new TributaryError('KAFKA', `${message}; the dead-letter topic refused it: ${String(e)}`, {
              cause: e,
            }),
          ),
      )
    }
    this.tracker.release(entries)
  }
}

/** One copy of the agent body on a task: its stream, its records in process, its restarts. */
class Lane {
  readonly #task: PartitionTask
  /** Entries handed to this body since it last asked for a record: the records in process. */
  #current: TrackedEntry[] = []
  #spare: TrackedEntry[] = []
  readonly #context: TaskContext

  constructor(task: PartitionTask) {
    this.#task = task
    this.#context = {
      processor: task.spec.name,
      topic: task.topic,
      partition: task.partition,
      emit: (records) => this.#emit(records),
      currentRecord: () => this.#current.at(-1)?.record,
    }
  }

  #emit(records: ProducerRecord[]): void {
    // The entry itself, or a copy: #current changes as records are taken and dropped, the hold must not.
    const current = this.#current
    this.#task.produce(records, current.length === 1 ? current[0]! : current.slice())
  }

  /** Releases the processing hold of the records in process: the body asked for the next one. */
  #advance(): void {
    if (this.#current.length === 0) return
    // Two arrays swap roles, so that a record costs no array here.
    const done = this.#current
    this.#current = this.#spare
    this.#task.tracker.release(done)
    for (let i = 0; i < done.length; i++) this.#task.host.onProgress(this.#task, 'in')
    done.length = 0
    this.#spare = done
  }

  /**
   * The next event for the body: decoded here (a bad record meets the error policy before the body)
   * and run through the operators. A hand-written iterator rather than async generators: while
   * records are queued it answers with an already settled promise, so a record costs few allocations.
   */
  #nextEvent(deadline?: number): Promise<IteratorResult<AnyEvent> | 'timeout'> {
    const task = this.#task
    for (;;) {
      if (task.outputsInFlight >= MAX_OUTPUTS_IN_FLIGHT) {
        return task.outputsBelow(MAX_OUTPUTS_IN_FLIGHT / 2).then(() => this.#nextEvent(deadline))
      }
      const record = task.take()
      if (record === undefined) {
        if (task.closing) return Promise.resolve({ done: true, value: undefined })
        if (deadline === undefined) return task.waitForRecord().then(() => this.#nextEvent())
        const left = deadline - Date.now()
        if (left <= 0) return Promise.resolve('timeout')
        return task.waitForRecord(left).then((woken) => (woken ? this.#nextEvent(deadline) : 'timeout'))
      }
      const entry = task.tracker.hand(record)
      let event: AnyEvent
      try {
        event = task.spec.decode(record)
      } catch (error) {
        return task.reject([entry], error, 'could not be decoded').then(() => this.#nextEvent(deadline))
      }
      this.#current.push(entry)
      const result = applyOps(event, task.spec.ops, this.#context)
      if (result === DROPPED) {
        this.#dropLast()
        continue
      }
      if (result instanceof Promise) {
        return result.then((r) => {
          if (r !== DROPPED) return { done: false, value: r }
          this.#dropLast()
          return this.#nextEvent(deadline)
        })
      }
      return Promise.resolve({ done: false, value: result })
    }
  }

  /** An operator dropped the record just taken: it is done (it must not share the fate of others). */
  #dropLast(): void {
    const entry = this.#current.pop()
    if (entry) {
      this.#task.tracker.release(entry)
      this.#task.host.onProgress(this.#task, 'in')
    }
  }

  async run(): Promise<void> {
    const task = this.#task
    while (!task.closing || task.queued > 0) {
      try {
        // The stream the body iterates: each request for a record means the ones before are processed.
        let took = false
        const source = {
          next: () => {
            took = true
            return this.#nextEvent() as Promise<IteratorResult<AnyEvent>>
          },
          nextWithin: (ms: number) => this.#nextEvent(Date.now() + ms),
        }
        await task.spec.run(new AgentStream(source, () => this.#advance()), this.#context)
        this.#advance()
        if (task.closing && task.queued === 0) return
        if (!took) {
          // A body that returns without reading its stream would be restarted in a tight loop.
          task.fail(
            new TributaryError('INVALID_ARGUMENT', `${task.where()} returned without reading its stream`),
          )
          return
        }
        task.host.log('warn', `${task.where()}: the agent returned; restarting it`)
        await new Promise((resolve) => setTimeout(resolve, RESTART_DELAY_MS))
      } catch (error) {
        if (task.failure) return
        const bad = this.#current
        this.#current = []
        if (bad.length === 0) {
          task.fail(
            new TributaryError('KAFKA', `${task.where()} failed before taking a record: ${String(error)}`, {
              cause: error,
            }),
          )
          return
        }
        await task.reject(bad, error, 'failed')
      }
    }
  }
}
