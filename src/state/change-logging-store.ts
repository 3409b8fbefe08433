/**
 * The change-logging layer (Kafka Streams' ChangeLoggingKeyValueBytesStore): every write to the
 * bytes store is also sent to the table's changelog partition, the task's own. `flush()` resolves
 * once every write sent so far is acknowledged, and `position` is then the changelog offset a
 * checkpoint may name: the store holds every changelog record before it.
 */
import { TributaryError } from '../errors.js'
import type { ProducerRecord, RecordMetadata } from '../transport/types.js'
import type { BytesStore, StoreWrite } from './types.js'

/** Sends changelog records; `done` gets their metadata or the failure (the worker's output batcher). */
export type ChangelogSend = (
  records: ProducerRecord[],
  done: (error: Error | undefined, meta?: RecordMetadata[]) => void,
) => void

export class ChangeLoggingStore {
  readonly inner: BytesStore
  readonly topic: string
  readonly partition: number
  readonly #send: ChangelogSend
  #pending = 0
  #waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = []
  #failure: Error | undefined
  /** The changelog offset after the last acknowledged write (undefined before the first). */
  #position: number | undefined
  /** Changelog records sent (for the write-cost metric). */
  sent = 0

  constructor(inner: BytesStore, topic: string, partition: number, send: ChangelogSend) {
    this.inner = inner
    this.topic = topic
    this.partition = partition
    this.#send = send
  }

  get position(): number | undefined {
    return this.#position
  }

  /** Where a restore ended: the store holds the changelog up to here. */
  restoredTo(offset: number): void {
    this.#position = offset
  }

  get(key: Buffer): Buffer | undefined {
    return this.inner.get(key)
  }

  write(batch: readonly StoreWrite[]): void {
    if (batch.length === 0) return
    this.inner.write(batch)
    const { topic, partition } = this
    const records: ProducerRecord[] = batch.map(({ key, value }) => ({ topic, partition, key, value }))
    this.#pending++
    this.sent += records.length
    this.#send(records, (error, meta) => {
      this.#pending--
      if (error !== undefined) this.#failure ??= error
      else if (meta !== undefined && meta.length > 0) {
        const next = meta[meta.length - 1]!.offset + 1
        if (this.#position === undefined || next > this.#position) this.#position = next
      }
      if (this.#pending === 0) this.#settle()
    })
  }

  /** Resolves once every write sent so far is acknowledged; rejects if one was not. */
  flush(): Promise<void> {
    if (this.#pending === 0) return this.#outcome()
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  #outcome(): Promise<void> {
    const failure = this.#failure
    if (failure === undefined) return Promise.resolve()
    return Promise.reject(
      new TributaryError(
        'KAFKA',
        `changelog ${this.topic}[${this.partition}]: a write was not acknowledged: ${failure.message}`,
        { topic: this.topic, partition: this.partition, cause: failure },
      ),
    )
  }

  #settle(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) this.#outcome().then(w.resolve, w.reject)
  }
}
