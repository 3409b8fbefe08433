/** What goes into and comes out of the test driver. */
import type { Headers } from '../transport/types.js'

/** Headers as a list (Kafka's form, repeats allowed) or, for convenience, an object of strings or bytes. */
export type InputHeaders = Headers | Record<string, string | Buffer>

/** A typed record to pipe into a topic, encoded with the topic's codecs. */
export interface TestInput<K, V> {
  key?: K
  value: V
  headers?: InputHeaders
  /** Event time in ms. @default the driver's clock (`driver.now()`) */
  timestamp?: number
  /** @default chosen from the key by Kafka's partitioner (murmur2), else spread */
  partition?: number
}

/** A record to pipe as bytes (for input the topic's codecs cannot produce, such as malformed JSON). */
export interface RawInput {
  /** A string is sent as its UTF-8 bytes. */
  key?: Buffer | string | null
  value: Buffer | string | null
  headers?: InputHeaders
  /** @default the driver's clock */
  timestamp?: number
  partition?: number
}

/** A record read from a topic, decoded with the topic's codecs. */
export interface TestRecord<K, V> {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
  readonly key: K | null
  readonly value: V
  readonly headers: Headers
}

/** A record the `dlq` policy took, with where it came from and why, read from `<appId>-dlq`. */
export interface DeadLetter {
  /** The topic, partition and offset of the record that failed. */
  readonly topic: string
  readonly partition: number
  readonly offset: number
  /** The processor that failed on it (the agent, or `<agent>.<groupBy name>` for a repartition step). */
  readonly agent: string
  /** The error, as `Name: message`. */
  readonly error: string
  /** The original bytes. */
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** The original headers (the `tributary.*` ones removed). */
  readonly headers: Headers
  readonly timestamp: number
  /** Where the dead letter itself sits in `<appId>-dlq`. */
  readonly dlq: { readonly partition: number; readonly offset: number }
}

export interface SettleOptions {
  /** @default the driver's `settleTimeoutMs` (10000) */
  timeoutMs?: number
}

export interface ReadOptions {
  /**
   * Settle first, so the topic holds everything the piped records lead to (a failure of the app is
   * thrown here). Pass false to look at a topic as it is, e.g. after a failure.
   * @default true
   */
  settle?: boolean
}
