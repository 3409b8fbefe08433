/** The embedded broker's producer: validates a whole batch, then appends it (all or nothing) and wakes readers. */
/* eslint-disable @typescript-eslint/require-await -- async like a network client: throws become rejections */
import { TributaryError } from '../../errors.js'
import type {
  Acks,
  Compression,
  Producer,
  ProducerOptions,
  ProducerRecord,
  RecordMetadata,
  Transaction,
} from '../types.js'
import type { MemoryBroker, TopicState } from './broker.js'
import { maintain } from './cleaner.js'
import type { PartitionLog } from './log.js'
import { prepareRecord } from './records.js'
import { MemoryTransaction } from './transaction.js'
import type { Txn, TxnSession } from './transaction-coordinator.js'
import { closedError, isList } from './util.js'

const ACKS: readonly Acks[] = [0, 1, 'all']
const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
/** The Java producer's batch.size: a keyless sticky partition is kept for about this many bytes. */
const STICKY_BYTES = 16384
/** Kafka's broker default transaction.max.timeout.ms: a longer transaction timeout is refused. */
const MAX_TRANSACTION_TIMEOUT_MS = 900_000

export class MemoryProducer implements Producer {
  /** @internal The open transaction, if any. */
  open: MemoryTransaction | undefined
  private closed = false
  private readonly acks: Acks
  private readonly transactionalId: string | undefined
  private readonly transactionTimeoutMs: number
  /** @internal The client.id, which fault injection may filter on. */
  readonly clientId: string
  /** Registered with the coordinator at the first beginTransaction (InitProducerId), as kafka:// does. */
  private session: TxnSession | undefined
  private readonly sticky = new Map<string, { partition: number; bytes: number; call: number }>()
  private calls = 0

  constructor(
    /** @internal */ readonly broker: MemoryBroker,
    options: ProducerOptions,
    private readonly onClose: () => void,
  ) {
    this.acks = options.acks ?? 'all'
    this.clientId = options.clientId ?? 'tributary'
    this.transactionTimeoutMs = options.transactionTimeoutMs ?? 10_000
    const timeout = this.transactionTimeoutMs
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_TRANSACTION_TIMEOUT_MS) {
      // Kafka's INVALID_TRANSACTION_TIMEOUT, refused at InitProducerId; here at once.
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Invalid transactionTimeoutMs ${String(timeout)}: a positive number of ms up to the broker's transaction.max.timeout.ms (${MAX_TRANSACTION_TIMEOUT_MS})`,
      )
    }
    if (!ACKS.includes(this.acks))
      throw new TributaryError('INVALID_ARGUMENT', `Invalid acks ${String(this.acks)}: use 0, 1 or 'all'`)
    const compression = options.compression ?? 'none'
    if (!COMPRESSIONS.includes(compression)) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Invalid compression ${String(compression)}: use ${COMPRESSIONS.join(', ')}`,
      )
    }
    const idempotent = options.idempotent ?? this.acks === 'all'
    if (idempotent && this.acks !== 'all') {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `An idempotent producer needs acks 'all', not ${String(this.acks)}`,
      )
    }
    if (options.transactionalId !== undefined) {
      if (typeof options.transactionalId !== 'string' || options.transactionalId === '') {
        throw new TributaryError('INVALID_ARGUMENT', 'transactionalId must be a non-empty string')
      }
      if (!idempotent)
        throw new TributaryError(
          'INVALID_ARGUMENT',
          "A transactional producer must be idempotent (acks 'all')",
        )
      this.transactionalId = options.transactionalId
    }
  }

  async send(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    this.checkUsable()
    if (this.transactionalId !== undefined) {
      // As with Java's transactional producer, a send outside beginTransaction/commit is an error.
      if (!this.open) {
        throw new TributaryError(
          'TRANSACTION',
          `Producer ${this.transactionalId} is transactional: call beginTransaction() before sending`,
        )
      }
      return this.open.send(records)
    }
    return this.append(records, null)
  }

  async beginTransaction(): Promise<Transaction> {
    if (this.closed) throw closedError('producer')
    if (this.transactionalId === undefined) {
      throw new TributaryError(
        'TRANSACTION',
        'beginTransaction() needs a producer created with a transactionalId',
      )
    }
    this.checkUsable()
    if (this.open?.txn.state === 'open') {
      throw new TributaryError(
        'TRANSACTION',
        `Producer ${this.transactionalId} already has an open transaction`,
      )
    }
    // InitProducerId on first use: a new epoch for the id fences any older producer and aborts its transaction.
    this.session ??= this.broker.transactions.init(this.transactionalId, this.transactionTimeoutMs)
    this.open = new MemoryTransaction(this, this.broker.transactions.begin(this.session))
    return this.open
  }

  async close(): Promise<void> {
    if (this.closed) return
    // Like Java's producer on a graceful close: abort the open transaction rather than leave it to time out.
    const txn = this.open?.txn
    if (txn && !this.session?.fenced) this.broker.transactions.end(txn, false)
    this.open = undefined
    this.closed = true
    this.onClose()
  }

  /** @internal Throws CLOSED or FENCED when the producer may not act. */
  checkUsable(): void {
    if (this.closed) throw closedError('producer')
    this.broker.check()
    if (this.session?.fenced) {
      const { transactionalId, epoch, fencedReason } = this.session
      throw new TributaryError(
        'FENCED',
        fencedReason
          ? `Producer with transactional id ${transactionalId} (epoch ${epoch}) was fenced: the broker aborted its transaction because ${fencedReason}`
          : `Producer with transactional id ${transactionalId} (epoch ${epoch}) was fenced by a newer producer with the same id`,
      )
    }
  }

  /** @internal Appends a batch, in a transaction or not; metadata comes back in input order. */
  append(records: readonly ProducerRecord[], txn: Txn | null): RecordMetadata[] {
    if (!isList(records)) throw new TributaryError('INVALID_ARGUMENT', 'send() takes a list of records')
    const now = Date.now()
    this.calls++
    const prepared = records.map((record) =>
      prepareRecord(this.broker, record, now, (topic, size) => this.stickyPartition(topic, size)),
    )
    // All or nothing, as a failed produce request appends nothing.
    const topics = [...new Set(prepared.map((p) => p.log.topic))].join(', ')
    this.broker.faults.check('produce', this.clientId, `produce to ${topics}`)
    if (txn && prepared.length > 0) this.broker.transactions.started(txn)
    const touched = new Set<PartitionLog>()
    const metadata: RecordMetadata[] = new Array<RecordMetadata>(prepared.length)
    for (let i = 0; i < prepared.length; i++) {
      const { log, key, value, headers, timestamp, size } = prepared[i]!
      const offset = log.append(key, value, headers, timestamp, now, size, txn)
      if (txn) txn.logs.add(log)
      touched.add(log)
      // With acks 0 the broker does not answer, so the offset is unknown (-1), as in Kafka's clients.
      metadata[i] = { topic: log.topic, partition: log.partition, offset: this.acks === 0 ? -1 : offset }
    }
    for (const log of touched) {
      maintain(log, now)
      log.notify()
    }
    return metadata
  }

  /** Kafka's sticky partitioner for keyless records: one partition per send() call, moving on every ~16 KB. */
  private stickyPartition(topic: TopicState, size: number): number {
    const count = topic.logs.length
    let state = this.sticky.get(topic.name)
    if (!state)
      this.sticky.set(
        topic.name,
        (state = { partition: Math.floor(Math.random() * count), bytes: 0, call: this.calls }),
      )
    else if (state.call !== this.calls || state.bytes >= STICKY_BYTES) {
      state.partition = (state.partition + 1) % count
      state.bytes = 0
      state.call = this.calls
    }
    state.bytes += size
    return state.partition % count
  }
}
