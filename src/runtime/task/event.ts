/**
 * The event object an agent receives: one allocation per record, with the original bytes read
 * from the record on demand (forwarding needs them; most bodies never look).
 */
import type { ConsumedRecord, Headers } from '../../transport/types.js'
import type { Event } from '../types.js'

export class RecordEvent<K, V> implements Event<K, V> {
  readonly key: K
  readonly value: V
  readonly #record: ConsumedRecord

  constructor(record: ConsumedRecord, key: K, value: V) {
    this.#record = record
    this.key = key
    this.value = value
  }

  get headers(): Headers {
    return this.#record.headers
  }
  get timestamp(): number {
    return this.#record.timestamp
  }
  get topic(): string {
    return this.#record.topic
  }
  get partition(): number {
    return this.#record.partition
  }
  get offset(): number {
    return this.#record.offset
  }
  get raw(): { readonly key: Buffer | null; readonly value: Buffer | null } {
    return { key: this.#record.key, value: this.#record.value }
  }

  /** The same event with another value (map). */
  withValue<V2>(value: V2): RecordEvent<K, V2> {
    return new RecordEvent(this.#record, this.key, value)
  }

  toJSON(): object {
    const { key, value, headers, timestamp, topic, partition, offset } = this
    return { key, value, headers, timestamp, topic, partition, offset }
  }
}
