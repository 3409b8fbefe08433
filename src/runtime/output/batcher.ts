/**
 * Coalesces the outputs of all partition tasks into few produce calls, as a Kafka producer's
 * linger does: sends made within one turn of the event loop (and up to `maxRecords`) go out as one
 * batch. Per-partition order is kept: batches leave in call order, and the producer keeps their
 * order. Callbacks, not promises, so that an output record costs no promise on the hot path.
 *
 * The gate: while closed, records queue up and nothing is sent, so that a commit that must draw a
 * line (a transaction ending under exactly-once) knows which outputs are on which side of it.
 */
import type { ProducerRecord, RecordMetadata } from '../../transport/types.js'
import { outputCount, type Outputs } from '../types.js'

/** Called once the records were acknowledged (meta given when asked for) or could not be delivered. */
export type Delivered = (error: Error | undefined, meta?: RecordMetadata[]) => void

/**
 * Who sent records on behalf of held input records (a task): told of the outcome with what it
 * passed in, so that an output costs the batcher no closure and, in a run of outputs of one
 * runner, no waiter of its own (the hot path): `helds` has one entry per enqueueHeld call, in order.
 */
export interface HeldOutputs {
  outputsDelivered(runner: unknown, helds: readonly unknown[], count: number, error: Error | undefined): void
}

/** One shape for every waiter: a callback's (`done`) or a holder's (`owner`, `runner`, `helds`). */
interface Waiter {
  start: number
  count: number
  done: Delivered | undefined
  wantsMeta: boolean
  owner: HeldOutputs | undefined
  runner: unknown
  helds: unknown[] | undefined
}

/** One callback that throws must not keep the others of its batch from running (their holds would stay). */
function settle(waiter: Waiter, error: Error | undefined, meta?: RecordMetadata[]): void {
  try {
    if (waiter.owner !== undefined)
      waiter.owner.outputsDelivered(waiter.runner, waiter.helds!, waiter.count, error)
    else waiter.done!(error, meta)
  } catch (failure) {
    queueMicrotask(() => {
      throw failure
    })
  }
}

export class OutputBatcher {
  readonly #send: (records: ProducerRecord[]) => Promise<RecordMetadata[]>
  readonly #maxRecords: number
  #records: ProducerRecord[] = []
  #waiters: Waiter[] = []
  #scheduled = false
  #gated = false

  constructor(send: (records: ProducerRecord[]) => Promise<RecordMetadata[]>, maxRecords = 5_000) {
    this.#send = send
    this.#maxRecords = maxRecords
  }

  /** Queues records; `done` is called when their batch is acknowledged or failed. */
  enqueue(records: Outputs, done: Delivered, wantsMeta = false): void {
    this.#waiters.push({
      start: this.#records.length,
      count: outputCount(records),
      done,
      wantsMeta,
      owner: undefined,
      runner: undefined,
      helds: undefined,
    })
    this.#queue(records)
  }

  /**
   * Queues records sent for held inputs; `owner.outputsDelivered(runner, [held, ...], ...)` gets the
   * outcome. Consecutive calls of one owner and runner share a waiter (they settle together anyway).
   */
  enqueueHeld(records: Outputs, owner: HeldOutputs, runner: unknown, held: unknown): void {
    const waiters = this.#waiters
    const last = waiters.length > 0 ? waiters[waiters.length - 1]! : undefined
    if (last !== undefined && last.owner === owner && last.runner === runner) {
      last.helds!.push(held)
      last.count += outputCount(records)
    } else {
      waiters.push({
        start: this.#records.length,
        count: outputCount(records),
        done: undefined,
        wantsMeta: false,
        owner,
        runner,
        helds: [held],
      })
    }
    this.#queue(records)
  }

  #queue(records: Outputs): void {
    if (!Array.isArray(records)) this.#records.push(records as ProducerRecord)
    else for (const r of records as readonly ProducerRecord[]) this.#records.push(r)
    if (this.#records.length >= this.#maxRecords && !this.#gated) this.#flush()
    else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.#flush())
    }
  }

  /** The same as a promise, with the records' metadata. */
  send(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    return new Promise((resolve, reject) =>
      this.enqueue(
        records,
        (error, meta) =>
          error === undefined
            ? resolve(meta!)
            : reject(error instanceof Error ? error : new Error(String(error))),
        true,
      ),
    )
  }

  /** Holds every later send back until open() (see the file comment). */
  close(): void {
    this.#gated = true
  }

  /** Sends what is queued now, then holds every later send back: the line a transaction's commit draws. */
  sendThenClose(): void {
    this.#flush()
    this.#gated = true
  }

  /** Drops what the gate holds, telling each sender `error` (a transaction aborted: its tasks redo them). */
  discard(error: Error): void {
    const waiters = this.#waiters
    this.#records = []
    this.#waiters = []
    for (const w of waiters) settle(w, error)
  }

  /** Lets the held sends go, as one batch. */
  open(): void {
    this.#gated = false
    this.#flush()
  }

  get gated(): boolean {
    return this.#gated
  }

  /** Records queued and not yet handed to the producer. */
  get queued(): number {
    return this.#records.length
  }

  #flush(): void {
    this.#scheduled = false
    if (this.#gated || this.#records.length === 0) return
    const records = this.#records
    const waiters = this.#waiters
    this.#records = []
    this.#waiters = []
    this.#send(records).then(
      (meta) => {
        for (const w of waiters)
          settle(w, undefined, w.wantsMeta ? meta.slice(w.start, w.start + w.count) : undefined)
      },
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(`send failed: ${String(error)}`)
        for (const w of waiters) settle(w, failure)
      },
    )
  }
}
