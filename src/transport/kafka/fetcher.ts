/**
 * The consumer's fetch loop on platformatic's raw `Consumer.fetch` (no MessagesStream): at most one
 * request in flight per broker and per partition, so records of a partition arrive in offset order;
 * no fetch while MAX_BUFFERED_RECORDS wait for `poll` (backpressure); a seek or a revocation bumps
 * the partition's epoch, and data fetched under an older epoch is dropped, never returned.
 */
import {
  ConnectionPool,
  ProtocolError,
  type Consumer as PltConsumer,
  type fetchV17,
} from '@platformatic/kafka'
import type { TributaryError } from '../../errors.js'
import type { ConsumedRecord, OffsetReset, TopicPartition, TopicPartitionOffset } from '../types.js'
import { RecordBuffer } from './buffer.js'
import { responseIn, toTributaryError } from './errors.js'
import { planFetches, type PartitionState, type PlannedFetch } from './fetch-plan.js'
import type { Link } from './link.js'
import { FETCH_MAX_BYTES, MAX_BUFFERED_RECORDS, UNREACHABLE_AFTER_MS } from './options.js'
import { listOffsets } from './positions.js'
import { appendRecords } from './records.js'
import type { Signal } from './signal.js'

type FetchResponse = fetchV17.FetchResponse

/** Partition errors that clear up once metadata is refreshed (leader moved, topic just created). */
const TRANSIENT_PARTITION_ERRORS = new Set([3, 5, 6, 7, 13, 56, 74, 75, 78, 100, 103])
const OFFSET_OUT_OF_RANGE = 1

export interface FetcherOptions {
  readCommitted: boolean
  maxWaitMs: number
  offsetReset: OffsetReset
}

const key = (topic: string, partition: number): string => `${topic}:${partition}`

export class Fetcher {
  readonly #client: PltConsumer
  readonly #pool: ConnectionPool
  readonly #link: Link
  readonly #options: FetcherOptions
  readonly #signal: Signal
  readonly #states = new Map<string, PartitionState>()
  readonly #busyNodes = new Set<number>()
  readonly #nodeRetryAt = new Map<number, number>()
  readonly #buffer = new RecordBuffer()
  #scheduled = false
  #timer: NodeJS.Timeout | undefined
  #failingSince: number | undefined
  #failure: TributaryError | undefined
  #closed = false

  constructor(client: PltConsumer, link: Link, options: FetcherOptions, signal: Signal) {
    this.#client = client
    this.#link = link
    this.#options = options
    this.#signal = signal
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
        })
    }
    this.#kick()
  }

  remove(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions) {
      const state = this.#states.get(key(topic, partition))
      if (!state) continue
      state.epoch++
      this.#states.delete(key(topic, partition))
    }
    this.#buffer.purge()
  }

  seek(position: TopicPartitionOffset): boolean {
    const state = this.#states.get(key(position.topic, position.partition))
    if (!state) return false
    this.#move(state, position.offset)
    this.#kick()
    return true
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

  /** Up to `max` buffered records, oldest first; fetching resumes as the buffer drains. */
  take(max: number): ConsumedRecord[] {
    const records = this.#buffer.take(max)
    if (this.#buffer.size < MAX_BUFFERED_RECORDS) this.#kick()
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
    if (this.#closed || this.#buffer.size >= MAX_BUFFERED_RECORDS) return
    const now = Date.now()
    const ready = [...this.#states.values()].filter((s) => !s.busy && s.retryAt <= now)
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
    for (const plan of planFetches(wanted, metadata, busy)) this.#send(plan)
  }

  #send({ node, states, topics, names }: PlannedFetch): void {
    const sent = new Map(
      states.map((s) => [key(s.topic, s.partition), { state: s, epoch: s.epoch, offset: s.offset }]),
    )
    for (const s of states) s.busy = true
    this.#busyNodes.add(node)
    const options = {
      node,
      topics,
      minBytes: 1,
      maxBytes: FETCH_MAX_BYTES,
      maxWaitTime: this.#options.maxWaitMs,
      isolationLevel: this.#options.readCommitted ? 1 : 0,
      connectionPool: this.#pool,
    }
    this.#client.fetch(options, (error, response) => {
      this.#busyNodes.delete(node)
      for (const s of states) s.busy = false
      if (this.#closed) return
      try {
        const answer = error ? responseIn<FetchResponse>(error) : response
        if (!answer) {
          this.#nodeRetryAt.set(node, Date.now() + this.#backoff())
          this.#client.clearMetadata()
          this.#noteFailure(error)
        } else {
          this.#failingSince = undefined
          this.#accept(answer, sent, names)
        }
      } catch (failure) {
        this.#fail(failure)
      }
      this.#kick()
    })
  }

  #accept(
    response: FetchResponse,
    sent: Map<string, { state: PartitionState; epoch: number; offset: number }>,
    names: Map<string, string>,
  ): void {
    let arrived = false
    for (const topicResponse of response.responses) {
      const topic = names.get(topicResponse.topicId)
      if (topic === undefined) continue
      for (const p of topicResponse.partitions) {
        const entry = sent.get(key(topic, p.partitionIndex))
        // Seeked, revoked or reset while in flight: what came back is for a position no longer wanted.
        if (!entry || entry.state.epoch !== entry.epoch) continue
        if (p.errorCode !== 0) {
          this.#partitionError(entry.state, p.errorCode)
          continue
        }
        if (!p.records || p.records.length === 0) continue
        const records: ConsumedRecord[] = []
        const aborted = this.#options.readCommitted ? p.abortedTransactions : undefined
        const next = appendRecords(records, topic, p.partitionIndex, p.records, entry.offset, aborted)
        if (next > entry.state.offset) entry.state.offset = next
        if (records.length > 0) {
          this.#buffer.push(entry.state, records)
          arrived = true
        }
      }
    }
    if (arrived) this.#signal.notify()
  }

  #partitionError(state: PartitionState, code: number): void {
    if (code === OFFSET_OUT_OF_RANGE) {
      this.#reset(state)
    } else if (TRANSIENT_PARTITION_ERRORS.has(code)) {
      this.#client.clearMetadata()
      state.retryAt = Date.now() + this.#backoff()
      this.#later(this.#backoff())
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

  /** Broker-wide trouble is retried quietly (as Kafka's consumer does) but surfaces in `poll` if it lasts. */
  #noteFailure(error: unknown): void {
    const mapped = toTributaryError(error, this.#link.context('fetch records'))
    const transient = mapped.code === 'BROKER_UNREACHABLE' || mapped.code === 'TIMEOUT' || mapped.canRetry
    const now = Date.now()
    this.#failingSince ??= now
    if (!transient || now - this.#failingSince >= UNREACHABLE_AFTER_MS) {
      this.#failure = mapped
      this.#failingSince = now
      this.#signal.notify()
    }
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
