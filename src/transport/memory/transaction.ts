/** A producer's open transaction on the embedded broker: records and consumer offsets, committed or aborted together. */
/* eslint-disable @typescript-eslint/require-await -- async like a network client: throws become rejections */
import { TributaryError } from '../../errors.js'
import type { Consumer, ProducerRecord, RecordMetadata, Transaction, TopicPartitionOffset } from '../types.js'
import type { MemoryBroker } from './broker.js'
import { MemoryConsumer } from './consumer.js'
import type { Txn } from './transaction-coordinator.js'

/** What a transaction needs from its producer (kept narrow so the two files do not import each other). */
export interface TransactionalProducer {
  readonly broker: MemoryBroker
  readonly clientId: string
  open: unknown
  checkUsable(): void
  append(records: readonly ProducerRecord[], txn: Txn | null): RecordMetadata[]
}

export class MemoryTransaction implements Transaction {
  private ended: 'committed' | 'aborted' | undefined

  constructor(
    private readonly producer: TransactionalProducer,
    /** @internal */ readonly txn: Txn,
  ) {}

  async send(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    this.checkOpen('send in')
    return this.producer.append(records, this.txn)
  }

  async sendOffsets(consumer: Consumer, offsets: TopicPartitionOffset[]): Promise<void> {
    this.checkOpen('send offsets in')
    if (!(consumer instanceof MemoryConsumer)) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        'sendOffsets() needs a consumer of the same memory:// transport',
      )
    }
    const group = consumer.groupForTransaction(this.producer.broker, offsets)
    const { broker, clientId } = this.producer
    broker.faults.check('sendOffsets', clientId, `send offsets for group ${group.id} to the transaction`)
    broker.transactions.started(this.txn)
    broker.transactions.addOffsets(this.txn, group, offsets)
  }

  async commit(): Promise<void> {
    this.checkOpen('commit')
    this.endTxnFault('commit')
    this.producer.broker.transactions.end(this.txn, true)
    this.finish('committed')
  }

  async abort(): Promise<void> {
    this.producer.checkUsable()
    if (this.ended)
      throw new TributaryError('TRANSACTION', `Cannot abort: the transaction was already ${this.ended}`)
    this.endTxnFault('abort')
    // Already aborted by the coordinator: aborting again is how the producer moves on.
    this.producer.broker.transactions.end(this.txn, false)
    this.finish('aborted')
  }

  /** An injected EndTxn failure leaves the transaction open, so the call can be repeated. */
  private endTxnFault(action: string): void {
    const { broker, clientId } = this.producer
    broker.faults.check(
      'endTxn',
      clientId,
      `${action} the transaction of ${this.txn.session.transactionalId}`,
    )
  }

  private finish(how: 'committed' | 'aborted'): void {
    this.ended = how
    if (this.producer.open === this) this.producer.open = undefined
  }

  /** CLOSED or FENCED first (the producer's state), then TRANSACTION for a transaction already ended. */
  private checkOpen(action: string): void {
    this.producer.checkUsable()
    if (this.ended)
      throw new TributaryError(
        'TRANSACTION',
        `Cannot ${action} the transaction: it was already ${this.ended}`,
      )
    if (this.txn.state === 'aborted') {
      throw new TributaryError(
        'TRANSACTION',
        `Cannot ${action} the transaction of ${this.txn.session.transactionalId}: the broker aborted it because ${this.txn.abortReason ?? 'it was aborted'}; abort() and begin a new one`,
      )
    }
  }
}
