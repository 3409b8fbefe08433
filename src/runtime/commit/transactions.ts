/**
 * The worker's one open transaction under exactly-once: begun by the first send after a commit
 * (every output, changelog write and dead letter of the worker goes into it) and taken by the next
 * commit. The output batcher's gate is closed from the moment a commit takes it until it ended, so
 * no send can begin the next one before this one committed or aborted: one transaction at a time.
 */
import type { Producer, ProducerRecord, RecordMetadata, Transaction } from '../../transport/types.js'

export class Transactions {
  readonly #producer: Producer
  #open: Promise<Transaction> | undefined
  /** Transactions committed and aborted, for /stats and the tests. */
  committed = 0
  aborted = 0

  constructor(producer: Producer) {
    this.#producer = producer
  }

  /** Sends into the open transaction, beginning one when none is open. */
  send(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    if (!this.#open) {
      const begun = this.#producer.beginTransaction()
      this.#open = begun
      // A begin that failed (the broker is away) is not kept: the next send begins again.
      begun.catch(() => {
        if (this.#open === begun) this.#open = undefined
      })
    }
    return this.#open.then((transaction) => transaction.send(records))
  }

  /** The open transaction (one is begun when none is: the offsets need one), taken out for its commit. */
  take(): Promise<Transaction> {
    const open = this.#open ?? this.#producer.beginTransaction()
    this.#open = undefined
    return open
  }

  /** Whether anything was sent since the last commit. */
  get pending(): boolean {
    return this.#open !== undefined
  }
}
