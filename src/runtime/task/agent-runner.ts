/**
 * Runs an agent body on a task: `concurrency` copies (lanes) take records from the processor's one
 * queue. Each lane holds the records it handed to its body until the body asks for the next one;
 * the tracker commits only the prefix every lane finished, so at-least-once holds, but with more
 * than one lane records of one key may finish out of order (as in Faust). A body that returns is
 * restarted; one that throws sends the records in process to the error policy, then is restarted.
 */
import { TributaryError } from '../../errors.js'
import {
  DROPPED,
  type AgentSpec,
  type AnyEvent,
  type Outputs,
  type EventSource,
  type ProcessorContext,
} from '../types.js'
import { backgroundSleep } from '../clock.js'
import { Runner } from './runner.js'
import { MAX_OUTPUTS_IN_FLIGHT } from './limits.js'
import type { TrackedEntry } from './tracker.js'

/** Pause before restarting a body that returned, so a body that returns at once cannot spin. */
const RESTART_DELAY_MS = 100

export class AgentRunner extends Runner {
  declare readonly spec: AgentSpec
  readonly #lanes: Lane[] = []
  #punctuating: Promise<void> = Promise.resolve()

  protected async run(): Promise<void> {
    const count = Math.max(1, this.spec.concurrency)
    for (let i = 0; i < count; i++) this.#lanes.push(new Lane(this))
    await Promise.all(this.#lanes.map((lane) => lane.run()))
    await this.#punctuating
  }

  /** An agent's body is not between records at any moment: punctuations run on their own chain. */
  protected punctuationDue(): void {
    this.#punctuating = this.#punctuating.then(() => this.runPunctuations())
  }

  heldOnClock(): number {
    let n = 0
    for (const lane of this.#lanes) if (lane.waitingOnClock) n += lane.held
    return n
  }

  busySince(): number | undefined {
    let since: number | undefined
    for (const lane of this.#lanes) {
      const s = lane.heldSince
      if (s !== undefined && !lane.waitingOnClock && (since === undefined || s < since)) since = s
    }
    return since
  }
}

/** One copy of the agent body: its records in process, its stream, its restarts. */
class Lane {
  readonly #runner: AgentRunner
  /**
   * Entries handed to this body since it last asked for a record (the records in process): the
   * first `#count` slots. The array is reused, never emptied (V8 would free its store every time,
   * and the next record would allocate it again).
   */
  readonly #current: TrackedEntry[] = []
  #count = 0
  readonly #context: ProcessorContext
  heldSince: number | undefined
  waitingOnClock = false

  constructor(runner: AgentRunner) {
    this.#runner = runner
    this.#context = runner.createContext(
      (records) => this.#forward(records),
      () => (this.#count > 0 ? this.#current[this.#count - 1]!.record : undefined),
    )
  }

  get held(): number {
    return this.#count
  }

  #forward(records: Outputs): void {
    // The entry itself, or a copy: the slots change as records are taken and dropped, the hold must not.
    const count = this.#count
    this.#runner.task.produce(
      records,
      this.#runner,
      count === 1 ? this.#current[0]! : this.#current.slice(0, count),
    )
  }

  /** Releases the processing hold of the records in process: the body asked for the next one. */
  #advance(): void {
    const count = this.#count
    if (count === 0) return
    this.#count = 0
    this.heldSince = undefined
    const runner = this.#runner
    const { tracker, spec } = runner
    const host = runner.task.host
    for (let i = 0; i < count; i++) {
      tracker.release(this.#current[i]!)
      host.onProgress(spec.name, 'in')
    }
  }

  /** The records in process, taken from the body (it failed): they go to the error policy. */
  #takeCurrent(): TrackedEntry[] {
    const taken = this.#current.slice(0, this.#count)
    this.#count = 0
    this.heldSince = undefined
    return taken
  }

  /**
   * The next event for the body: decoded here (a bad record meets the error policy before the body)
   * and run through the operators. A hand-written iterator rather than async generators: while
   * records are queued it answers with an already settled promise, so a record costs few allocations.
   */
  #nextEvent(deadline?: number): Promise<IteratorResult<AnyEvent> | 'timeout'> {
    // No closure in this function: V8 would allocate their context on every call (every record).
    // Every way to wait is a method of its own.
    const runner = this.#runner
    const { task, queue, spec } = runner
    for (;;) {
      if (task.outputsInFlight >= MAX_OUTPUTS_IN_FLIGHT) return this.#afterOutputs(deadline)
      const entry = queue.take()
      if (entry === undefined) {
        if (queue.finished) return Promise.resolve({ done: true, value: undefined })
        return this.#afterWait(deadline)
      }
      const record = entry.record
      task.observe(record.timestamp)
      let event: AnyEvent
      try {
        event = spec.decode(record)
      } catch (error) {
        return this.#afterReject(entry, error, deadline)
      }
      if (this.#count === 0) this.heldSince = task.host.clock.now()
      this.#current[this.#count++] = entry
      const result = spec.transform ? spec.transform(event, this.#context) : event
      if (result === DROPPED) {
        this.#dropLast()
        continue
      }
      if (result instanceof Promise) return this.#afterTransform(result, deadline)
      runner.handed = result
      return Promise.resolve({ done: false, value: result })
    }
  }

  async #afterOutputs(deadline: number | undefined): Promise<IteratorResult<AnyEvent> | 'timeout'> {
    await this.#runner.task.outputsBelow(MAX_OUTPUTS_IN_FLIGHT / 2)
    return this.#nextEvent(deadline)
  }

  async #afterWait(deadline: number | undefined): Promise<IteratorResult<AnyEvent> | 'timeout'> {
    const { task, queue } = this.#runner
    if (deadline === undefined) {
      await queue.wait()
      return this.#nextEvent()
    }
    const left = deadline - task.host.clock.now()
    if (left <= 0) return 'timeout'
    this.waitingOnClock = true
    const woken = await queue.wait(left)
    this.waitingOnClock = false
    return woken ? this.#nextEvent(deadline) : 'timeout'
  }

  async #afterReject(
    entry: TrackedEntry,
    error: unknown,
    deadline: number | undefined,
  ): Promise<IteratorResult<AnyEvent> | 'timeout'> {
    await this.#runner.reject([entry], error, 'could not be decoded')
    return this.#nextEvent(deadline)
  }

  async #afterTransform(
    pending: Promise<AnyEvent | typeof DROPPED>,
    deadline: number | undefined,
  ): Promise<IteratorResult<AnyEvent> | 'timeout'> {
    const result = await pending
    if (result !== DROPPED) {
      this.#runner.handed = result
      return { done: false, value: result }
    }
    this.#dropLast()
    return this.#nextEvent(deadline)
  }

  /** An operator dropped the record just taken: it is done (it must not share the fate of others). */
  #dropLast(): void {
    if (this.#count === 0) return
    const entry = this.#current[--this.#count]!
    this.#runner.tracker.release(entry)
    this.#runner.task.host.onProgress(this.#runner.spec.name, 'in')
    if (this.#count === 0) this.heldSince = undefined
  }

  async run(): Promise<void> {
    const runner = this.#runner
    const { task, queue } = runner
    while (!queue.closing || queue.length > 0) {
      try {
        // The stream the body iterates: each request for a record means the ones before are processed.
        let took = false
        const source: EventSource = {
          next: () => {
            took = true
            return this.#nextEvent() as Promise<IteratorResult<AnyEvent>>
          },
          nextWithin: (ms: number) => this.#nextEvent(task.host.clock.now() + ms),
          advance: () => this.#advance(),
          now: () => task.host.clock.now(),
        }
        await runner.spec.run(source, this.#context)
        this.#advance()
        if (queue.closing && queue.length === 0) return
        if (!took) {
          // A body that returns without reading its stream would be restarted in a tight loop.
          task.fail(
            new TributaryError('INVALID_ARGUMENT', `${runner.where()} returned without reading its stream`),
          )
          return
        }
        task.host.log('warn', `${runner.where()}: the agent returned; restarting it`)
        await backgroundSleep(RESTART_DELAY_MS)
      } catch (error) {
        if (task.failure) return
        const bad = this.#takeCurrent()
        if (bad.length === 0) {
          task.fail(
            new TributaryError('KAFKA', `${runner.where()} failed before taking a record: ${String(error)}`, {
              cause: error,
            }),
          )
          return
        }
        await runner.reject(bad, error, 'failed')
      }
    }
  }
}
