/**
 * What both kinds of processor runner share: the processor's queue of the task's records, its
 * punctuations, its context, and the error policy for records it could not decode or process.
 */
import { TributaryError, coordinates } from '../../errors.js'
import type { ConsumedRecord } from '../../transport/types.js'
import type { AnyEvent, Cancellable, Outputs, ProcessorContext, ProcessorSpec } from '../types.js'
import { Punctuator } from './punctuator.js'
import { EntryQueue } from './queue.js'
import { taskScope } from './scope.js'
import type { Cap, StreamTask } from './task.js'
import type { OffsetTracker, TrackedEntry } from './tracker.js'

export abstract class Runner {
  readonly task: StreamTask
  readonly spec: ProcessorSpec
  readonly tracker: OffsetTracker
  readonly queue: EntryQueue
  readonly punctuator: Punctuator
  /** The cap of the punctuation running now: its outputs hold the task's commits. */
  protected cap: Cap | undefined
  /** The event handed to the processor last (the task scope's event()). */
  handed: AnyEvent | undefined
  #done: Promise<void> | undefined

  constructor(task: StreamTask, spec: ProcessorSpec, tracker: OffsetTracker) {
    this.task = task
    this.spec = spec
    this.tracker = tracker
    this.queue = new EntryQueue(task.host.clock)
    this.punctuator = new Punctuator(task.host.clock, () => this.punctuationDue())
  }

  /** Settles when the processor stopped (it finished its queue, or was stopped). */
  get done(): Promise<void> {
    return this.#done ?? Promise.resolve()
  }

  start(): void {
    if (this.#done) return
    const state = this.task.stateManager
    // Inside the task scope, the processor's tables find this task's stores (scope.ts).
    this.#done = state.stateful
      ? taskScope.run(
          {
            taskId: this.task.id,
            partition: this.task.partition,
            processor: this.spec.name,
            store: (name) => state.store(name),
            windowStats: (name) => state.windowStats(name),
            event: () => this.handed,
            emit: (records) => {
              const cap = this.cap ?? this.task.openCap()
              this.task.produceCapped(records, this, cap)
              if (cap !== this.cap) this.task.closeCap(cap)
            },
            now: () => this.task.host.clock.now(),
            log: (level, message) => this.task.host.log(level, message),
            schedule: (intervalMs, type, fn) =>
              this.punctuator.schedule(intervalMs, type, fn, this.task.streamTime()),
          },
          () => this.run(),
        )
      : this.run()
  }

  /** No new records come: work through the queue, then end. */
  finish(): void {
    this.queue.closing = true
    this.queue.wakeAll()
  }

  /** End now: queued records are dropped undone (not committed, so fetched again by their next owner). */
  stop(): void {
    this.queue.closing = true
    this.queue.drain()
    this.punctuator.cancelAll()
    this.queue.wakeAll()
  }

  protected abstract run(): Promise<void>
  protected abstract punctuationDue(): void
  /** Records the processor holds while it waits for time on the clock (a batch being filled). */
  abstract heldOnClock(): number
  /** Since when (clock ms) the processor has held the record in process; undefined when none. */
  abstract busySince(): number | undefined

  where(): string {
    return this.task.where(this.spec.name, this.spec.topic)
  }

  /** The context given to the processor; `forward` and `current` depend on the kind of runner. */
  createContext(
    forward: (records: Outputs) => void,
    current: () => ConsumedRecord | undefined,
  ): ProcessorContext {
    const task = this.task
    return {
      processor: this.spec.name,
      taskId: task.id,
      topic: this.spec.topic,
      partition: task.partition,
      forward: (records) => {
        if (this.cap) task.produceCapped(records, this, this.cap)
        else forward(records)
      },
      currentRecord: current,
      streamTime: () => task.streamTime(),
      now: () => task.host.clock.now(),
      schedule: (intervalMs, type, fn): Cancellable =>
        this.punctuator.schedule(intervalMs, type, fn, task.streamTime()),
    }
  }

  /** Runs the due punctuations one at a time; each holds the task's commits until its outputs are acked. */
  protected async runPunctuations(): Promise<void> {
    for (let due = this.punctuator.take(); due; due = this.punctuator.take()) {
      if (this.task.closing) return
      const cap = (this.cap = this.task.openCap())
      try {
        await due.punctuation.fn(due.timestamp)
      } catch (error) {
        this.task.fail(
          new TributaryError(
            'KAFKA',
            `${this.where()}: a ${due.punctuation.type}-time punctuation failed: ${String(error)}`,
            { cause: error, partition: this.task.partition },
          ),
        )
      } finally {
        this.cap = undefined
        this.task.closeCap(cap)
      }
    }
  }

  /** Applies the error policy to records that could not be decoded or processed. */
  async reject(entries: TrackedEntry[], error: unknown, what: string): Promise<void> {
    const first = entries[0]!.record
    const message = `${this.where()}: record ${coordinates(first.topic, first.partition, first.offset)} ${what}: ${
      error instanceof Error ? error.message : String(error)
    }`
    const { task, spec, tracker } = this
    task.host.onProgress(spec.name, 'error')
    if (spec.errors === 'fail') {
      const next = `${first.topic}:${first.partition} --to-offset ${first.offset + 1}`
      const hint =
        ` (errors: 'fail' stops the worker here; to skip this record, stop the workers and run ` +
        `"tributary groups reset-offsets ${task.host.groupId} --topic ${next} --execute", ` +
        `or choose errors: 'skip' or 'dlq')`
      task.fail(
        new TributaryError('KAFKA', message + hint, {
          topic: first.topic,
          partition: first.partition,
          offset: first.offset,
          cause: error,
        }),
      )
      return
    }
    if (spec.errors === 'skip') {
      task.host.log('warn', `${message} (skipped)`)
    } else {
      task.host.log('warn', `${message} (sent to the dead-letter topic)`)
      tracker.hold(entries)
      await Promise.all(entries.map((e) => task.host.deadLetter(e.record, error, spec.name))).then(
        () => tracker.release(entries),
        (e: unknown) =>
          task.fail(
            new TributaryError('KAFKA', `${message}; the dead-letter topic refused it: ${String(e)}`, {
              cause: e,
            }),
          ),
      )
    }
    tracker.release(entries)
  }
}
