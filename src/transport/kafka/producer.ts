/**
 * The Producer interface on platformatic's Producer: partitions chosen here, requests shaped by
 * SendQueue. Sends ride out a cluster outage: transient failures are retried within
 * DELIVERY_TIMEOUT_MS of the send (delivery.ts), then the send fails with canRetry: true.
 */
import { ProduceAcks, Producer as PltProducer } from '@platformatic/kafka'
import { TributaryError } from '../../errors.js'
import { partitionForKey } from '../partitioner.js'
import type { Producer, ProducerOptions, ProducerRecord, RecordMetadata, Transaction } from '../types.js'
import { deliver } from './delivery.js'
import { Link } from './link.js'
import {
  baseOptions,
  resolveProducerOptions,
  UNREACHABLE_AFTER_MS,
  type ResolvedConnection,
  type ResolvedProducerOptions,
} from './options.js'
import { ProduceClient, type OutMessage, type Produced, type ProducerIdentity } from './produce.js'
import { estimateSize } from './records.js'
import { retryTransient } from './retry.js'
import { SendQueue, TIMESTAMP_WINDOW_MS, type Prepared, type Run, type Sender } from './send-queue.js'
import { KafkaTransaction, type TransactionHost } from './transaction.js'

const ACKS = { 0: ProduceAcks.NO_RESPONSE, 1: ProduceAcks.LEADER, all: ProduceAcks.ALL } as const

export class KafkaProducer implements Producer, TransactionHost {
  readonly #client: PltProducer
  readonly link: Link
  readonly #options: ResolvedProducerOptions
  readonly #queue: SendQueue
  readonly #plain: Sender
  readonly #produce: ProduceClient
  /** The idempotent producer's id and epoch, once InitProducerId has answered. */
  #identity: Promise<ProducerIdentity> | undefined
  readonly #roundRobin = new Map<string, number>()
  readonly #onClose: () => void
  #transaction: KafkaTransaction | undefined
  #beginning = false
  #fenced: TributaryError | undefined
  /** A plain idempotent send failed unacknowledged: its sequence numbers may be on the broker (see #plainSend). */
  #unresolved = false
  #closing: Promise<void> | undefined

  constructor(connection: ResolvedConnection, options: ProducerOptions, onClose: () => void) {
    this.#options = resolveProducerOptions(options)
    const { clientId, acks, compression, idempotent, transactionalId, transactionTimeoutMs } = this.#options
    this.#client = new PltProducer({
      ...baseOptions(connection, clientId),
      // Platformatic sends its `timeout` as InitProducerId's transaction_timeout_ms (and as the
      // produce timeout, the broker's wait for acks: bounded by the request timeout anyway).
      ...(transactionalId === undefined ? {} : { timeout: transactionTimeoutMs }),
      acks: ACKS[acks],
      compression,
      idempotent,
      ...(transactionalId === undefined ? {} : { transactionalId }),
      // InitProducerId asks for a new epoch with -1/-1. Platformatic's default 0/0 is read by the
      // broker as "bump producer 0, epoch 0", which fails with PRODUCER_FENCED once the
      // transactional id exists: a restarted producer could then never begin a transaction.
      producerId: -1n,
      producerEpoch: -1,
    })
    this.link = new Link(connection)
    this.#queue = new SendQueue((records, deadline) => this.#prepare(records, deadline), idempotent ? 1 : 5)
    this.#produce = new ProduceClient(this.#client, ACKS[acks], connection.requestTimeoutMs, compression)
    this.#plain = (messages, deadline) => this.#plainSend(messages, deadline)
    this.#onClose = onClose
  }

  get fenced(): TributaryError | undefined {
    return this.#fenced
  }

  async send(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    this.#checkUsable('send records')
    if (this.#options.transactionalId !== undefined) {
      // As in Kafka: a transactional producer's sends belong to its open transaction.
      if (this.#transaction) return this.#transaction.send(records)
      throw new TributaryError(
        'TRANSACTION',
        'A transactional producer sends inside a transaction: call beginTransaction() first',
      )
    }
    return this.enqueue(records, this.#plain)
  }

  /** Queues records for `sender` (a plain send, or a transaction's); notes fencing. */
  enqueue(records: ProducerRecord[], sender: Sender): Promise<RecordMetadata[]> {
    return this.#queue.push(records, sender).catch((error: unknown) => {
      if (error instanceof TributaryError && error.code === 'FENCED') this.#fenced ??= error
      throw error
    })
  }

  /**
   * A send outside transactions, encoded by us (produce.ts). When one failed unacknowledged (its
   * deadline passed during an outage, or the broker refused a batch), the broker may hold that
   * batch all the same, and the next batch would carry the same sequence: the broker would take it
   * for a duplicate, acknowledge it and drop it. So the next send first gets a new producer id
   * (InitProducerId), whose sequences start afresh, as Kafka's producer resets its epoch (KIP-360).
   */
  async #plainSend(messages: OutMessage[], deadline: number): Promise<Produced> {
    if (this.#unresolved && this.#options.idempotent) {
      this.#identity = undefined
      this.#unresolved = false
    }
    try {
      const identity = this.#options.idempotent ? await this.#idempotentIdentity() : undefined
      return await deliver(this.link, 'send records', deadline, messages, (batch) =>
        this.#produce.send(batch, identity),
      )
    } catch (error) {
      this.#unresolved = true
      throw error
    }
  }

  #idempotentIdentity(): Promise<ProducerIdentity> {
    const identity = (this.#identity ??= this.link
      .run('send records', () => this.#client.initIdempotentProducer({ producerId: -1n, producerEpoch: -1 }))
      .then((info) => {
        this.#produce.resetSequences()
        return { producerId: info.producerId, producerEpoch: info.producerEpoch }
      }))
    identity.catch(() => {
      if (this.#identity === identity) this.#identity = undefined
    })
    return identity
  }

  async beginTransaction(): Promise<Transaction> {
    this.#checkUsable('begin a transaction')
    const transactionalId = this.#options.transactionalId
    if (transactionalId === undefined)
      throw new TributaryError('TRANSACTION', 'Transactions need a producer created with a transactionalId')
    if (this.#transaction || this.#beginning)
      throw new TributaryError('TRANSACTION', 'A transaction is already open on this producer')
    this.#beginning = true
    try {
      // The first begin registers the transactional id (InitProducerId): that fences any older producer.
      const transaction = await this.link.run(`begin a transaction as "${transactionalId}"`, () =>
        this.#client.beginTransaction(),
      )
      this.#transaction = new KafkaTransaction(this, transaction)
      return this.#transaction
    } catch (error) {
      if (error instanceof TributaryError && error.code === 'FENCED') this.#fenced ??= error
      throw error
    } finally {
      this.#beginning = false
    }
  }

  identity(): { transactionalId: string; producerId: bigint; producerEpoch: number } {
    return {
      transactionalId: this.#options.transactionalId ?? '',
      producerId: this.#client.producerId ?? -1n,
      producerEpoch: this.#client.producerEpoch ?? -1,
    }
  }

  ended(transaction: KafkaTransaction, error?: TributaryError): void {
    if (this.#transaction === transaction) this.#transaction = undefined
    if (error?.code === 'FENCED') this.#fenced ??= error
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    this.#onClose()
    await this.#queue.drain()
    // An open transaction would hold back read_committed consumers until it times out: abort it.
    await this.#transaction?.abort().catch(() => undefined)
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<boolean>(
      (resolve) => (timer = setTimeout(() => resolve(false), UNREACHABLE_AFTER_MS)),
    )
    const closed = await Promise.race([
      this.#client.close().then(
        () => true,
        () => false,
      ),
      late,
    ])
    clearTimeout(timer)
    if (!closed) await this.#client.connections.close().catch(() => undefined)
  }

  #checkUsable(what: string): void {
    if (this.#closing) throw new TributaryError('CLOSED', `Cannot ${what}: the producer is closed`)
    if (this.#fenced)
      throw new TributaryError('FENCED', `Cannot ${what}: ${this.#fenced.message}`, { cause: this.#fenced })
  }

  /** Chooses every record's partition (murmur2 of the key, as Java does; round robin without key). */
  async #prepare(records: ProducerRecord[], deadline: number): Promise<Prepared> {
    const counts = await this.#partitionCounts(records, deadline)
    const messages = new Array<OutMessage>(records.length)
    const now = Date.now()
    const runs: Run[] = []
    const first = records[0]?.timestamp ?? now
    let run: Run = { end: records.length, min: first, max: first }
    let bytes = 0
    let topic: string | undefined
    let count = 0
    let next = 0
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      // A record without timestamp gets the request's time, close to `now`.
      const timestamp = r.timestamp ?? now
      if (timestamp < run.min || timestamp > run.max) {
        const min = Math.min(run.min, timestamp)
        const max = Math.max(run.max, timestamp)
        if (max - min < TIMESTAMP_WINDOW_MS) {
          run.min = min
          run.max = max
        } else {
          run.end = i
          runs.push(run)
          run = { end: records.length, min: timestamp, max: timestamp }
        }
      }
      if (r.topic !== topic) {
        if (topic !== undefined) this.#roundRobin.set(topic, next)
        topic = r.topic
        count = counts.get(topic)!
        next = this.#roundRobin.get(topic) ?? 0
      }
      checkBytes(r)
      let partition = r.partition
      if (partition === undefined) partition = r.key ? partitionForKey(r.key, count) : next++ % count
      messages[i] = { topic, partition, key: r.key, value: r.value, headers: r.headers, timestamp }
      bytes += estimateSize(r.key, r.value, r.headers)
    }
    if (topic !== undefined) this.#roundRobin.set(topic, next % Math.max(count, 1))
    runs.push(run)
    return { messages, bytes, runs }
  }

  /** Partition counts of the records' topics; UNKNOWN_TOPIC and INVALID_PARTITIONS are raised here. */
  async #partitionCounts(records: ProducerRecord[], deadline: number): Promise<Map<string, number>> {
    const highest = new Map<string, number>()
    for (let i = 0; i < records.length; i++) {
      const { topic, partition } = records[i]!
      const p = partition ?? -1
      if (partition !== undefined && (!Number.isInteger(partition) || partition < 0)) {
        throw new TributaryError(
          'INVALID_PARTITIONS',
          `Partition ${partition} of topic "${topic}" is not a partition number`,
          { topic, partition },
        )
      }
      if (p > (highest.get(topic) ?? -2)) highest.set(topic, p)
    }
    const topics = [...highest.keys()]
    const counts = async (forceUpdate: boolean): Promise<Map<string, number>> => {
      const single = topics.length === 1 ? topics[0] : undefined
      const metadata = await retryTransient(this.link, deadline, () =>
        this.link.run('send records', () => this.#client.metadata({ topics, forceUpdate }), {
          topic: single,
        }),
      )
      return new Map(topics.map((t) => [t, metadata.topics.get(t)?.partitionsCount ?? 0]))
    }
    let result = await counts(false)
    const beyond = (): string | undefined => topics.find((t) => highest.get(t)! >= result.get(t)!)
    // Our cached metadata may predate a createPartitions: look again before refusing.
    if (beyond() !== undefined) result = await counts(true)
    const topic = beyond()
    if (topic !== undefined) {
      const partition = highest.get(topic)!
      throw new TributaryError(
        'INVALID_PARTITIONS',
        `Topic "${topic}" has ${result.get(topic)} partitions; ${partition} is not one of them`,
        {
          topic,
          partition,
        },
      )
    }
    return result
  }
}

/** Keys are Buffers, values Buffers or strings (sent as UTF-8): anything else is named, not sent. */
function checkBytes(record: ProducerRecord): void {
  const { key, value } = record
  if (
    (key === null || key === undefined || Buffer.isBuffer(key)) &&
    (value === null || typeof value === 'string' || Buffer.isBuffer(value))
  )
    return
  const field = key === null || key === undefined || Buffer.isBuffer(key) ? 'value' : 'key'
  throw new TributaryError(
    'INVALID_ARGUMENT',
    `The record ${field} for topic ${record.topic} must be a Buffer${field === 'value' ? ', a string' : ''} or null`,
    { topic: record.topic },
  )
}
