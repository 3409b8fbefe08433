/**
 * Turns send() calls into produce requests: in call order, coalesced up to PRODUCE_REQUEST_BYTES
 * when the window is full (sends waiting behind it become one request; a large one is split), with at most
 * `maxInFlight` requests out. An idempotent producer gets 1: a partition's sequence moves on when
 * its batch is acknowledged (produce.ts, and platformatic in transactions), so two requests in
 * flight to a partition would carry the same sequence and the broker would drop the second as a
 * duplicate while acknowledging it.
 *
 * A request also never spans TIMESTAMP_WINDOW_MS of record timestamps. Our encoder
 * (wire/batch-encode.ts) writes any delta exactly, but transactional batches are still encoded by
 * platformatic, which writes a record's timestamp as a zigzag varint delta from its batch's first
 * record with an encoder (@platformatic/dynamic-buffer 0.3.1, int64ZigZagEncode shifts by 31, a
 * 32-bit loop mask) that corrupts any delta of 2^31 ms or more.
 */
import type { ProducerRecord, RecordMetadata } from '../types.js'
import { DELIVERY_TIMEOUT_MS, PRODUCE_REQUEST_BYTES } from './options.js'
import type { OutMessage, Produced } from './produce.js'

/** Below 2^30 ms (12.4 days) both ways, every delta in a batch stays below 2^30: safe to encode. */
export const TIMESTAMP_WINDOW_MS = 2 ** 30 - 3_600_000

/** Consecutive messages whose timestamps fit in one window; `end` is exclusive. */
export interface Run {
  end: number
  min: number
  max: number
}

export interface Prepared {
  messages: OutMessage[]
  /** Estimated bytes of all messages, to size requests. */
  bytes: number
  /** One run when all timestamps fit one window (the usual case). */
  runs: Run[]
}

/** Sends one request; transient failures are retried until `deadline` (ms since the epoch). */
export type Sender = (messages: OutMessage[], deadline: number) => Promise<Produced>

interface Job {
  sender: Sender
  /** Past this, a send that transient failures kept from the broker fails (DELIVERY_TIMEOUT_MS). */
  deadline: number
  preparing: Promise<void>
  prepared: Prepared | undefined
  prepareError: unknown
  results: RecordMetadata[]
  /** Messages handed to requests so far; the job leaves the queue when all are. */
  next: number
  run: number
  outstanding: number
  failed: boolean
  resolve: (results: RecordMetadata[]) => void
  reject: (error: unknown) => void
}

interface Slice {
  job: Job
  start: number
  end: number
}

export class SendQueue {
  readonly #prepare: (records: ProducerRecord[], deadline: number) => Promise<Prepared>
  readonly #maxInFlight: number
  readonly #pending = new Set<Promise<unknown>>()
  #jobs: Job[] = []
  #inFlight = 0
  #pumping = false

  constructor(
    prepare: (records: ProducerRecord[], deadline: number) => Promise<Prepared>,
    maxInFlight: number,
  ) {
    this.#prepare = prepare
    this.#maxInFlight = maxInFlight
  }

  push(records: ProducerRecord[], sender: Sender): Promise<RecordMetadata[]> {
    if (records.length === 0) return Promise.resolve([])
    const done = new Promise<RecordMetadata[]>((resolve, reject) => {
      const job: Job = {
        sender,
        deadline: Date.now() + DELIVERY_TIMEOUT_MS,
        preparing: Promise.resolve(),
        prepared: undefined,
        prepareError: undefined,
        results: new Array<RecordMetadata>(records.length),
        next: 0,
        run: 0,
        outstanding: 0,
        failed: false,
        resolve,
        reject,
      }
      // Prepared at once (metadata lookups run in parallel) but sent in call order.
      job.preparing = this.#prepare(records, job.deadline).then(
        (prepared) => {
          job.prepared = prepared
        },
        (error: unknown) => {
          job.prepareError = error
        },
      )
      this.#jobs.push(job)
    })
    const settled = done.then(
      () => undefined,
      () => undefined,
    )
    this.#pending.add(settled)
    void settled.then(() => this.#pending.delete(settled))
    void this.#pump()
    return done
  }

  /** Resolves when every send queued so far has settled. */
  async drain(): Promise<void> {
    await Promise.all([...this.#pending])
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      while (this.#jobs.length > 0 && this.#inFlight < this.#maxInFlight) {
        const queued = this.#jobs.length
        const slices = await this.#nextRequest()
        if (slices.length === 0) {
          // Only a failed preparation (job removed) yields nothing; anything else must not spin.
          if (this.#jobs.length === queued)
            this.#jobs.shift()?.reject(new Error('internal: a send could not be scheduled'))
          continue
        }
        this.#inFlight++
        void this.#dispatch(slices).then(() => {
          this.#inFlight--
          void this.#pump()
        })
      }
    } finally {
      this.#pumping = false
    }
  }

  /** Takes messages from the head of the queue, of one sender, up to the request size. */
  async #nextRequest(): Promise<Slice[]> {
    const slices: Slice[] = []
    let bytes = 0
    let min = Number.POSITIVE_INFINITY
    let max = Number.NEGATIVE_INFINITY
    while (this.#jobs.length > 0) {
      const job = this.#jobs[0]!
      if (slices.length > 0 && job.sender !== slices[0]!.job.sender) break
      // With requests to spare, each send goes out on its own and requests pipeline; only what
      // queues up behind a full window is merged (always, for an idempotent producer).
      if (
        slices.length > 0 &&
        this.#inFlight + 1 < this.#maxInFlight &&
        job !== slices[slices.length - 1]!.job
      )
        break
      if (job.prepared === undefined) {
        if (slices.length > 0) break
        await job.preparing
        if (job.prepared === undefined) {
          this.#jobs.shift()
          job.failed = true
          job.reject(job.prepareError)
          continue
        }
      }
      const count = job.prepared.messages.length
      const run = job.prepared.runs[job.run]!
      if (Math.max(max, run.max) - Math.min(min, run.min) >= TIMESTAMP_WINDOW_MS) break
      const each = job.prepared.bytes / count
      const room = Math.floor((PRODUCE_REQUEST_BYTES - bytes) / each)
      const end = Math.min(run.end, job.next + Math.max(room, slices.length === 0 ? 1 : 0))
      if (end <= job.next) break
      slices.push({ job, start: job.next, end })
      job.outstanding++
      bytes += (end - job.next) * each
      min = Math.min(min, run.min)
      max = Math.max(max, run.max)
      job.next = end
      if (end === run.end) job.run++
      if (end === count) this.#jobs.shift()
      if (bytes >= PRODUCE_REQUEST_BYTES) break
    }
    return slices
  }

  async #dispatch(slices: Slice[]): Promise<void> {
    const first = slices[0]!
    const whole =
      slices.length === 1 && first.start === 0 && first.end === first.job.prepared!.messages.length
    const messages = whole
      ? first.job.prepared!.messages
      : slices.flatMap((s) => s.job.prepared!.messages.slice(s.start, s.end))
    let error: unknown
    try {
      // The oldest send in the request sets its deadline (they are in call order).
      assignOffsets(slices, await first.job.sender(messages, first.job.deadline))
    } catch (failure) {
      error = failure ?? new Error('send failed')
    }
    for (const { job } of slices) {
      job.outstanding--
      if (error !== undefined) {
        if (!job.failed) {
          job.failed = true
          job.reject(error)
        }
      } else if (!job.failed && job.outstanding === 0 && job.next === job.prepared!.messages.length) {
        job.resolve(job.results)
      }
    }
  }
}

/**
 * A request holds one record batch per partition, in call order, so a record's offset is the
 * batch's base offset plus its index among the request's records for that partition.
 * With acks 0 the broker answers nothing: offsets are -1, as in Kafka's own producer.
 */
function assignOffsets(slices: Slice[], result: Produced): void {
  const bases = new Map<string, number[]>()
  for (const o of result.offsets ?? []) {
    let list = bases.get(o.topic)
    if (!list) bases.set(o.topic, (list = []))
    list[o.partition] = o.offset
  }
  const counts = new Map<string, number[]>()
  let topic: string | undefined
  let topicBases: number[] = []
  let topicCounts: number[] = []
  for (const { job, start, end } of slices) {
    const messages = job.prepared!.messages
    const results = job.results
    for (let i = start; i < end; i++) {
      const message = messages[i]!
      if (message.topic !== topic) {
        topic = message.topic
        topicBases = bases.get(topic) ?? []
        let list = counts.get(topic)
        if (!list) counts.set(topic, (list = []))
        topicCounts = list
      }
      const partition = message.partition
      const index = topicCounts[partition] ?? 0
      topicCounts[partition] = index + 1
      const base = topicBases[partition]
      results[i] = { topic, partition, offset: base === undefined ? -1 : base + index }
    }
  }
}
