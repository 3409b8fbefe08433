/** The user-facing types of streams and agents. */
import type { Headers } from '../transport/types.js'

/** One record as an agent sees it: typed key and value, plus where it came from. */
export interface Event<K, V> {
  readonly key: K
  readonly value: V
  readonly headers: Headers
  /** Event time in ms (the record's timestamp). */
  readonly timestamp: number
  readonly topic: string
  readonly partition: number
  readonly offset: number
  /** The record's original bytes, for forwarding without re-encoding. */
  readonly raw: { readonly key: Buffer | null; readonly value: Buffer | null }
}

/** What to do with a record that fails to decode or whose processing throws. */
export type ErrorPolicy =
  /** Stop the worker with an error naming topic, partition and offset; nothing past it is committed. */
  | 'fail'
  /** Log the error with the record's coordinates and go on with the next record. */
  | 'skip'
  /** Send the original bytes to `<appId>-dlq` with the error and coordinates in headers, and go on. */
  | 'dlq'

/** A record to send through a typed topic. */
export interface OutgoingRecord<K, V> {
  key?: K
  value: V
  headers?: Headers
  partition?: number
  timestamp?: number
}
