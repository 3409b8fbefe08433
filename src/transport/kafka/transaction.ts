/** A Kafka transaction on platformatic's Transaction: records and consumer offsets committed or aborted as one. */
import type { Producer as PltProducer } from '@platformatic/kafka'
import { TributaryError } from '../../errors.js'
import type { Consumer, ProducerRecord, RecordMetadata, Transaction, TopicPartitionOffset } from '../types.js'
import { KafkaConsumer } from './consumer.js'
import { deliver } from './delivery.js'
import type { Link } from './link.js'
import { toMessage } from './records.js'
import type { Sender } from './send-queue.js'

type PltTransaction = NonNullable<PltProducer['transaction']>

/** What a transaction needs of its producer. */
export interface TransactionHost {
  readonly link: Link
  readonly fenced: TributaryError | undefined
  /** The producer's transactional id and its InitProducerId answer (known once a transaction began). */
  identity(): { transactionalId: string; producerId: bigint; producerEpoch: number }
  enqueue(records: ProducerRecord[], sender: Sender): Promise<RecordMetadata[]>
  ended(transaction: KafkaTransaction, error?: TributaryError): void
}

export class KafkaTransaction implements Transaction {
  readonly #host: TransactionHost
  readonly #transaction: PltTransaction
  readonly #sender: Sender
  readonly #sends = new Set<Promise<unknown>>()
  #state: 'open' | 'ending' | 'done' = 'open'
  #failed: unknown
  /** Whether anything reached the broker: an empty transaction ends locally, as in Kafka's producer. */
  #touched = false

  constructor(host: TransactionHost, transaction: PltTransaction) {
    this.#host = host
    this.#transaction = transaction
    this.#sender = (messages, deadline) => {
      this.#touched = true
      // Transactional batches still go through platformatic's producer, which adds each new
      // partition to the transaction (AddPartitionsToTxn) before it sends.
      return deliver(host.link, 'send records in a transaction', deadline, messages, async (batch) => {
        const result = await transaction.send({
          messages: batch.map((m) => toMessage(m.topic, m.partition, m.key, m.value, m.headers, m.timestamp)),
        })
        return {
          offsets: (result.offsets ?? []).map(({ topic, partition, offset }) => ({
            topic,
            partition,
            offset: Number(offset),
          })),
        }
      })
    }
  }

  async send(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    this.#check('send records')
    const sent = this.#host.enqueue(records, this.#sender)
    const settled = sent.then(
      () => undefined,
      (error: unknown) => {
        this.#failed ??= error
      },
    )
    this.#sends.add(settled)
    return sent
  }

  async sendOffsets(consumer: Consumer, offsets: TopicPartitionOffset[]): Promise<void> {
    this.#check('send offsets')
    if (!(consumer instanceof KafkaConsumer)) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        'sendOffsets needs a consumer of the same kafka:// transport',
      )
    }
    if (offsets.length === 0) return
    const group = await consumer.groupMetadata()
    this.#touched = true
    // AddOffsetsToTxn, then every partition's offset in one TxnOffsetCommit of our own: platformatic's
    // addOffset sends one request per partition and merges concurrent ones by name (only the first
    // of two in flight would be sent), so it is not used.
    await this.#host.link.run(`add group "${group.groupId}" to the transaction`, () =>
      this.#transaction.addConsumer(group.client),
    )
    await consumer.commitInTransaction(this.#host.identity(), offsets)
  }

  commit(): Promise<void> {
    return this.#end(true)
  }

  abort(): Promise<void> {
    return this.#end(false)
  }

  async #end(commit: boolean): Promise<void> {
    const what = commit ? 'commit the transaction' : 'abort the transaction'
    this.#check(what)
    this.#state = 'ending'
    await Promise.all([...this.#sends])
    if (commit && this.#failed !== undefined) {
      this.#state = 'open'
      throw new TributaryError('TRANSACTION', 'A send in this transaction failed; abort it', {
        cause: this.#failed,
      })
    }
    try {
      // EndTxn for a transaction the coordinator never heard of is INVALID_TXN_STATE.
      const transaction = this.#transaction
      const end = !this.#touched
        ? () => transaction.cancel()
        : commit
          ? () => transaction.commit()
          : () => transaction.abort()
      await this.#host.link.run(what, end)
      this.#state = 'done'
      this.#host.ended(this)
    } catch (error) {
      const fenced = error instanceof TributaryError && error.code === 'FENCED'
      this.#state = fenced ? 'done' : 'open'
      if (fenced) this.#host.ended(this, error)
      throw error
    }
  }

  #check(what: string): void {
    const fenced = this.#host.fenced
    if (fenced) {
      this.#state = 'done'
      this.#host.ended(this, fenced)
      throw new TributaryError('FENCED', `Cannot ${what}: ${fenced.message}`, { cause: fenced })
    }
    if (this.#state !== 'open') {
      throw new TributaryError(
        'TRANSACTION',
        `Cannot ${what}: the transaction is ${this.#state === 'done' ? 'already over' : 'ending'}`,
      )
    }
  }
}
