/**
 * A partition task: one processor on one assigned partition. It owns a bounded queue of fetched
 * records, the offset tracker, and the agent body, which it restarts after a record that the `skip`
 * or `dlq` policy took.
 *
 * Lifecycle: running -> (close) -> draining: the queue is cut, the body finishes the record in hand,
 * outputs are awaited -> closed. `fail` ends the task with a ProcessingError; the worker then stops.
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

export class PartitionTask {
  readonly spec: ProcessorSpec
  readonly topic: string
  readonly partition: number
  readonly tracker = new OffsetTracker()
  readonly #host: TaskHost
  readonly #queue: ConsumedRecord[] = []
  #wake: (() => void) | undefined
  #closing = false
  #position: number | undefined
  #failed: Error | undefined
  /** Entries handed to the body since it last asked for a record: the records in process. */
  #current: TrackedEntry[] = []
  #spare: TrackedEntry[] = []
  #done: Promise<void> | undefined
  #outputs = 0
  #outputsDrained: (() => void) | undefined

  constructor(spec: ProcessorSpec, partition: number, host: TaskHost) {
    this.spec = spec
    this.topic = spec.topic
    this.partition = partition
    this.#host = host
  }

  get queued(): number {
    return this.#queue.length
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
    this.#wake?.()
  }

  start(): void {
    this.#done ??= this.#loop()
  }

  /** Stops taking records, lets the body finish the one in hand, waits for outputs. */
  async close(): Promise<void> {
    this.#closing = true
    this.#queue.length = 0
    this.#wake?.()
    await this.#done
    while (this.#outputs > 0) {
      await new Promise<void>((resolve) => (this.#outputsDrained = resolve))
      this.#outputsDrained = undefined
    }
  }

  readonly #context: TaskContext = {
    processor: '',
    topic: '',
    partition: 0,
    emit: (records) => this.#emit(records),
    currentRecord: () => this.#current.at(-1)?.record,
  }

  #emit(records: ProducerRecord[]): void {
    // The entry itself, or a copy: #current changes as records are taken and dropped, the hold must not.
    const current = this.#current
    const held = current.length === 1 ? current[0]! : current.slice()
    const count = records.length
    this.tracker.hold(held)
    this.#outputs++
    this.#host.produce(records, (error) => {
      this.#outputs--
      if (error === undefined) {
        this.tracker.release(held)
        for (let i = 0; i < count; i++) this.#host.onProgress(this, 'out')
      } else {
        // An output that cannot be delivered must not be committed past: the records stay held.
        this.#fail(
          new TributaryError(
            'KAFKA',
            `${this.#where()}: an output could not be delivered: ${error.message}`,
            {
              topic: this.topic,
              partition: this.partition,
              cause: error,
            },
          ),
        )
      }
      if (this.#outputs === 0) this.#outputsDrained?.()
    })
  }

  #where(): string {
    return `agent "${this.spec.name}" on ${coordinates(this.topic, this.partition)}`
  }

  #fail(error: Error): void {
    if (this.#failed) return
    this.#failed = error
    this.#closing = true
    this.#queue.length = 0
    this.#wake?.()
    this.#host.onFailure(this, error)
  }

  /** Releases the processing hold of the records in process: the body asked for the next one. */
  #advance(): void {
    if (this.#current.length === 0) return
    // Two arrays swap roles, so that a record costs no array here.
    const done = this.#current
    this.#current = this.#spare
    this.tracker.release(done)
    for (let i = 0; i < done.length; i++) this.#host.onProgress(this, 'in')
    done.length = 0
    this.#spare = done
  }

  /**
   * The next event for the body: decoded here (a bad record meets the error policy before the body)
   * and run through the operators. A hand-written iterator rather than async generators: while
   * records are queued it answers with an already settled promise, so a record costs few allocations.
   */
  #nextEvent(): Promise<IteratorResult<AnyEvent>> {
    for (;;) {
      if (this.#closing) return Promise.resolve({ done: true, value: undefined })
      const record = this.#queue.shift()
      if (record === undefined) {
        return new Promise<void>((resolve) => (this.#wake = resolve)).then(() => {
          this.#wake = undefined
          return this.#nextEvent()
        })
      }
      const entry = this.tracker.hand(record)
      let event: AnyEvent
      try {
        event = this.spec.decode(record)
      } catch (error) {
        return this.#reject([entry], error, 'could not be decoded').then(() => this.#nextEvent())
      }
      this.#current.push(entry)
      const result = applyOps(event, this.spec.ops, this.#context)
      if (result === DROPPED) {
        this.#dropLast()
        continue
      }
      if (result instanceof Promise) {
        return result.then((r) => {
          if (r !== DROPPED) return { done: false, value: r }
          this.#dropLast()
          return this.#nextEvent()
        })
      }
      return Promise.resolve({ done: false, value: result })
    }
  }

  /** The stream the body iterates: each request for a record means the ones before are processed. */
  #stream(): AgentStream<AnyEvent> {
    return new AgentStream({ next: () => this.#nextEvent() }, () => this.#advance())
  }

  /** An operator dropped the record just taken: it is done (it must not share the fate of others). */
  #dropLast(): void {
    const entry = this.#current.pop()
    if (entry) {
      this.tracker.release(entry)
      this.#host.onProgress(this, 'in')
    }
  }

  async #loop(): Promise<void> {
    Object.assign(this.#context, { processor: this.spec.name, topic: this.topic, partition: this.partition })
    while (!this.#closing) {
      try {
        await this.spec.run(this.#stream(), this.#context)
        if (!this.#closing) this.#host.log('warn', `${this.#where()}: the agent returned; restarting it`)
        this.#advance()
      } catch (error) {
        if (this.#failed) return
        const bad = this.#current
        this.#current = []
        if (bad.length === 0) {
          this.#fail(
            new TributaryError('KAFKA', `${this.#where()} failed before taking a record: ${String(error)}`, {
              cause: error,
            }),
          )
          return
        }
        await this.#reject(bad, error, 'failed')
      }
    }
  }

  /** Applies the error policy to records that could not be decoded or processed. */
  async #reject(entries: TrackedEntry[], error: unknown, what: string): Promise<void> {
    const first = entries[0]!.record
    const message = `${this.#where()}: record ${coordinates(first.topic, first.partition, first.offset)} ${what}: ${
      error instanceof Error ? error.message : String(error)
    }`
    this.#host.onProgress(this, 'error')
    if (this.spec.errors === 'fail') {
      this.#fail(
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
      this.#host.log('warn', `${message} (skipped)`)
    } else {
      this.#host.log('warn', `${message} (sent to the dead-letter topic)`)
      this.tracker.hold(entries)
      await Promise.all(entries.map((e) => this.#host.deadLetter(e.record, error, this.spec.name))).then(
        () => this.tracker.release(entries),
        (e: unknown) =>
          this.#fail(
            new TributaryError('KAFKA', `${message}; the dead-letter topic refused it: ${String(e)}`, {
              cause: e,
            }),
          ),
      )
    }
    this.tracker.release(entries)
  }
}
