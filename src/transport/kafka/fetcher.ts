/**
 * The consumer's fetch loop, on Fetch requests of our own (fetch-send.ts) whose record batches we
 * decode straight into ConsumedRecord (wire/batch-decode.ts), no MessagesStream: at most one
 * request in flight per broker and per partition, so records of a partition arrive in offset order;
 * a partition is not fetched while it is paused or holds its budget of records waiting for `poll`,
 * nor any while the partitions that are not paused hold the total budget (backpressure); a seek or
 * a revocation bumps the partition's epoch, and data fetched under an older epoch is dropped.
 *
 * Faults: a broker that cannot be reached, a leader that moved, a request that timed out are
 * retried forever, with a backoff of at most 2 s, so fetching resumes by itself within seconds of
 * the cluster answering again; the outage is noted (outage.ts) for `poll` to report once. Only an
 * error that retrying cannot cure (authorization, offset out of range with offsetReset 'none', a
 * record batch that fails its CRC or cannot be decompressed here) fails `poll`, with canRetry:
 * false; a partition stopped by an unreadable batch is fetched again after a seek, like Kafka's
 * consumer, which returns the records before it and then throws at its offset.
 */
import {
  ConnectionPool,
  ProtocolError,
  protocolErrors,
  protocolErrorsCodesById,
  type Broker,
  type Consumer as PltConsumer,
} from '@platformatic/kafka'
import type { TributaryError } from '../../errors.js'
import type {
  ConsumedRecord,
  OffsetReset,
  TopicPartition,
  TopicPartitionOffset,
  Watermarks,
} from '../types.js'
import { RecordBuffer } from './buffer.js'
import { toTributaryError } from './errors.js'
import { planFetches, type PartitionState, type PlannedFetch } from './fetch-plan.js'
import { sendFetch } from './fetch-send.js'
import type { Link } from './link.js'
import { FETCH_MAX_BYTES, MAX_BUFFERED_RECORDS } from './options.js'
import type { Outage } from './outage.js'
import { listOffsets } from './positions.js'
import { isTransient } from './retry.js'
import type { Signal } from './signal.js'
import { decodeBatches } from './wire/batch-decode.js'
import type { FetchResult } from './wire/fetch.js'

const OFFSET_OUT_OF_RANGE = 1
/** The longest a fetch waits on the broker while another partition of ours is held back (see #send). */
const HELD_BACK_WAIT_MS = 20

/** Partition errors that clear up by themselves (leader moved, topic just created): the broker's retriable ones. */
function transientPartitionError(code: number): boolean {
  const id = protocolErrorsCodesById[code]
  return id !== undefined && protocolErrors[id]?.canRetry === true
}

export interface FetcherOptions {
  readCommitted: boolean
  maxWaitMs: number
  offsetReset: OffsetReset
  maxBufferedRecordsPerPartition: number
}

const key = (topic: string, partition: number): string => `${topic}:${partition}`

export class Fetcher {
  readonly #client: PltConsumer
  readonly #pool: ConnectionPool
  readonly #link: Link
  readonly #options: FetcherOptions
  readonly #signal: Signal
  readonly #outage: Outage
  readonly #states = new Map<string, PartitionState>()
  /** Paused partitions, also those not fetched yet (assigned, start offset still being looked up). */
  readonly #paused = new Set<string>()
  readonly #busyNodes = new Set<number>()
  readonly #nodeRetryAt = new Map<number, number>()
  readonly #buffer = new RecordBuffer()
  readonly #totalBudget: number
  #scheduled = false
  #timer: NodeJS.Timeout | undefined
  #failingSince: number | undefined
  #failure: TributaryError | undefined
  #closed = false

  constructor(client: PltConsumer, link: Link, options: FetcherOptions, signal: Signal, outage: Outage) {
    this.#client = client
    this.#link = link
    this.#options = options
    this.#signal = signal
    this.#outage = outage
    this.#totalBudget = Math.max(MAX_BUFFERED_RECORDS, options.maxBufferedRecordsPerPartition)
    // Fetches long-poll the broker; on their own connections they never delay heartbeats or commits.
    this.#pool = new ConnectionPool(`${client.clientId}-fetch`, {
      connectTimeout: link.connection.connectTimeoutMs,
      requestTimeout: link.connection.requestTimeoutMs,
      ...(link.connection.tls ? { tls: link.connection.tls === true ? {} : link.connection.tls } : {}),
      ...(link.connection.sasl ? { sasl: { ...link.connection.sasl } } : {}),
    })
  }

  partitions(): TopicPartition[] {
    return [...this.#states.values()].map(({ topic, partition }) => ({ topic, partition }))
  }

  has(tp: TopicPartition): boolean {
    return this.#states.has(key(tp.topic, tp.partition))
  }

  /** Starts fetching these partitions at these offsets (moving those already fetched). */
  add(positions: TopicPartitionOffset[]): void {
    for (const { topic, partition, offset } of positions) {
      const state = this.#states.get(key(topic, partition))
      if (state) this.#move(state, offset)
      else
        this.#states.set(key(topic, partition), {
          topic,
          partition,
          offset,
          epoch: 0,
          busy: false,
          retryAt: 0,
          buffered: 0,
          paused: this.#paused.has(key(topic, partition)),
          watermarks: undefined,
        })
    }
    this.#kick()
  }

  /** Stops fetching these partitions; their buffered records are dropped and their pause forgotten. */
  remove(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions) {
      this.#paused.delete(key(topic, partition))
      this.#outage.clear(`fetch ${key(topic, partition)}`)
      const state = this.#states.get(key(topic, partition))
      if (!state) continue
      state.epoch++
      this.#states.delete(key(topic, partition))
    }
    this.#buffer.purge()
    this.#kick()
  }

  seek(position: TopicPartitionOffset): boolean {
    const state = this.#states.get(key(position.topic, position.partition))
    if (!state) return false
    this.#move(state, position.offset)
    this.#kick()
    return true
  }

  /** Pauses (or resumes) partitions the caller checked are assigned; their buffered records stay. */
  setPaused(partitions: TopicPartition[], paused: boolean): void {
    for (const { topic, partition } of partitions) {
      if (paused) this.#paused.add(key(topic, partition))
      else this.#paused.delete(key(topic, partition))
      const state = this.#states.get(key(topic, partition))
      if (state) state.paused = paused
    }
    if (!paused) {
      this.#kick()
      this.#signal.notify()
    }
  }

  paused(): TopicPartition[] {
    return [...this.#paused].map((k) => {
      const at = k.lastIndexOf(':')
      return { topic: k.slice(0, at), partition: Number(k.slice(at + 1)) }
    })
  }

  /** The offset of the next record `take` returns for the partition: the first buffered, or the next fetched. */
  position(tp: TopicPartition): number | undefined {
    const state = this.#states.get(key(tp.topic, tp.partition))
    if (!state) return undefined
    return this.#buffer.firstOffset(state) ?? state.offset
  }

  watermarks(tp: TopicPartition): Watermarks | undefined {
    const watermarks = this.#states.get(key(tp.topic, tp.partition))?.watermarks
    return watermarks && { ...watermarks }
  }

  #move(state: PartitionState, offset: number): void {
    state.offset = offset
    state.epoch++
    state.retryAt = 0
    this.#buffer.purge()
  }

  takeFailure(): TributaryError | undefined {
    const failure = this.#failure
    this.#failure = undefined
    return failure
  }

  /** Up to `max` buffered records of partitions not paused, oldest first; fetching resumes as they drain. */
  take(max: number): ConsumedRecord[] {
    const records = this.#buffer.take(max)
    // Room may have come back (records taken, or a revoked partition's dropped): see what to fetch.
    this.#kick()
    return records
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#states.clear()
    this.#buffer.clear()
    await this.#pool.close()
  }

  #kick(): void {
    if (this.#scheduled || this.#closed) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.#round().catch((error: unknown) => this.#fail(error))
    })
  }

  #later(ms: number): void {
    clearTimeout(this.#timer)
    if (!this.#closed) this.#timer = setTimeout(() => this.#kick(), ms)
  }

  async #round(): Promise<void> {
    if (this.#closed) return
    let waiting = 0
    for (const s of this.#states.values()) if (!s.paused) waiting += s.buffered
    if (waiting >= this.#totalBudget) return
    const now = Date.now()
    const budget = this.#options.maxBufferedRecordsPerPartition
    const ready = [...this.#states.values()].filter(
      (s) => !s.busy && !s.paused && s.retryAt <= now && s.buffered < budget,
    )
    if (ready.length === 0) return
    let metadata
    try {
      metadata = await this.#client.metadata({ topics: [...new Set(ready.map((s) => s.topic))] })
    } catch (error) {
      this.#noteFailure(error)
      return
    }
    // Still wanted and not taken by another round meanwhile.
    const wanted = ready.filter((s) => !s.busy && this.#states.get(key(s.topic, s.partition)) === s)
    const busy = (node: number): boolean =>
      this.#busyNodes.has(node) || (this.#nodeRetryAt.get(node) ?? 0) > now
    for (const plan of planFetches(wanted, metadata, busy)) this.#send(plan, metadata.brokers.get(plan.node))
  }

  #send({ node, states, topics, names }: PlannedFetch, broker: Broker | undefined): void {
    const sent = new Map(
      states.map((s) => [key(s.topic, s.partition), { state: s, epoch: s.epoch, offset: s.offset }]),
    )
    for (const s of states) s.busy = true
    // A partition held back (paused, or at its budget) wants a fetch as soon as it is resumed or
    // drained, and a broker answers one request per connection at a time: a long poll for the
    // others would hold its fetch up for all of maxWaitMs. So wait briefly while any is held back.
    const budget = this.#options.maxBufferedRecordsPerPartition
    let heldBack = false
    for (const s of this.#states.values()) if (!s.busy && (s.paused || s.buffered >= budget)) heldBack = true
    this.#busyNodes.add(node)
    const request = {
      topics,
      minBytes: 1,
      maxBytes: FETCH_MAX_BYTES,
      maxWaitMs: heldBack ? Math.min(this.#options.maxWaitMs, HELD_BACK_WAIT_MS) : this.#options.maxWaitMs,
      isolationLevel: this.#options.readCommitted ? 1 : 0,
    }
    sendFetch(this.#client, this.#pool, node, broker, request, (error, answer) => {
      this.#busyNodes.delete(node)
      for (const s of states) s.busy = false
      if (this.#closed) return
      try {
        // Partition errors come back in the answer; a top-level one fails the whole request.
        const failure =
          error ?? (answer && answer.errorCode !== 0 ? new ProtocolError(answer.errorCode) : undefined)
        if (failure || !answer) {
          this.#nodeRetryAt.set(node, Date.now() + this.#backoff())
          this.#client.clearMetadata()
          this.#noteFailure(failure)
        } else {
          this.#failingSince = undefined
          this.#outage.clear('fetch')
          this.#accept(answer, sent, names)
        }
      } catch (failure) {
        this.#fail(failure)
      }
      this.#kick()
    })
  }

  #accept(
    response: FetchResult,
    sent: Map<string, { state: PartitionState; epoch: number; offset: number }>,
    names: Map<string, string>,
  ): void {
    let arrived = false
    for (const topicResponse of response.responses) {
      const topic = names.get(topicResponse.topicId)
      if (topic === undefined) continue
      for (const p of topicResponse.partitions) {
        const entry = sent.get(key(topic, p.partition))
        if (!entry) continue
        if (p.errorCode !== 0) {
          if (entry.state.epoch === entry.epoch) this.#partitionError(entry.state, p.errorCode)
          continue
        }
        this.#outage.clear(`fetch ${key(topic, p.partition)}`)
        // Facts about the log, whatever position they were fetched for.
        const highWatermark = p.highWatermark
        entry.state.watermarks = {
          highWatermark,
          lastStableOffset: p.lastStableOffset >= 0 ? p.lastStableOffset : highWatermark,
        }
        // Seeked, revoked or reset while in flight: what came back is for a position no longer wanted.
        if (entry.state.epoch !== entry.epoch) continue
        if (!p.records) continue
        const records: ConsumedRecord[] = []
        const aborted = this.#options.readCommitted ? p.abortedTransactions : undefined
        let next: number
        let unreadable: TributaryError | undefined
        try {
          next = decodeBatches(records, topic, p.partition, p.records, entry.offset, aborted)
        } catch (error) {
          // A corrupt batch: the records before it are good; the partition stops there until a seek.
          unreadable = toTributaryError(
            error,
            this.#link.context('fetch records', { topic, partition: p.partition }),
          )
          next = Math.max(entry.offset, unreadable.offset ?? entry.offset)
        }
        if (next > entry.state.offset) entry.state.offset = next
        if (records.length > 0) {
          this.#buffer.push(entry.state, records)
          arrived = true
        }
        if (unreadable) {
          entry.state.retryAt = Number.POSITIVE_INFINITY
          this.#fail(unreadable, entry.state)
        }
      }
    }
    if (arrived) this.#signal.notify()
  }

  #partitionError(state: PartitionState, code: number): void {
    if (code === OFFSET_OUT_OF_RANGE) {
      this.#reset(state)
    } else if (transientPartitionError(code)) {
      this.#client.clearMetadata()
      state.retryAt = Date.now() + this.#backoff()
      this.#later(this.#backoff())
      const error = toTributaryError(
        new ProtocolError(code),
        this.#link.context('fetch records', { topic: state.topic, partition: state.partition }),
      )
      this.#outage.note(`fetch ${key(state.topic, state.partition)}`, error)
    } else {
      state.retryAt = Number.POSITIVE_INFINITY
      this.#fail(new ProtocolError(code), state)
    }
  }

  /** OFFSET_OUT_OF_RANGE (the records were deleted, or the offset is past the end): apply offsetReset. */
  #reset(state: PartitionState): void {
    const { topic, partition } = state
    if (this.#options.offsetReset === 'none') {
      state.retryAt = Number.POSITIVE_INFINITY
      this.#fail(
        new Error(`offset ${state.offset} is out of range and offsetReset is 'none'; seek to go on`),
        state,
      )
      return
    }
    const epoch = state.epoch
    state.busy = true
    listOffsets(
      this.#client,
      this.#link,
      [{ topic, partition }],
      this.#options.offsetReset === 'earliest' ? -2n : -1n,
    )
      .then(
        (offsets) => {
          state.busy = false
          if (state.epoch === epoch) this.#move(state, offsets.get(key(topic, partition)) ?? state.offset)
        },
        (error: unknown) => {
          state.busy = false
          state.retryAt = Date.now() + this.#backoff()
          this.#noteFailure(error)
        },
      )
      .finally(() => this.#kick())
  }

  #backoff(): number {
    const failing = this.#failingSince === undefined ? 0 : Date.now() - this.#failingSince
    return Math.min(100 + failing / 4, 2_000)
  }

  /** Trouble reaching the cluster is retried quietly (as Kafka's consumer does) and noted for `poll`. */
  #noteFailure(error: unknown): void {
    const mapped = toTributaryError(error, this.#link.context('fetch records'))
    this.#failingSince ??= Date.now()
    // A topic deleted under us is retried too: the group drops its partitions at the next
    // rebalance; with assign() the outage report names it.
    if (isTransient(mapped) || mapped.code === 'UNKNOWN_TOPIC') this.#outage.note('fetch', mapped)
    else this.#fail(mapped)
    this.#later(this.#backoff())
  }

  #fail(error: unknown, state?: PartitionState): void {
    this.#failure = toTributaryError(
      error,
      this.#link.context('fetch records', { topic: state?.topic, partition: state?.partition }),
    )
    this.#signal.notify()
  }
}
