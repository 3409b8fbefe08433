/** A topic declared by an app: its name, codecs and the settings used when it is created. */
import { TributaryError } from '../errors.js'
import { keysOf, knownKeys, wholeNumber } from '../validate.js'
import { describeValue } from '../serde/codecs.js'
import type { Codec } from '../serde/types.js'
import type { NewTopic, ProducerRecord, RecordMetadata } from '../transport/types.js'
import { encodeWith } from './encode.js'
import { Stream } from './stream.js'
import type { OutgoingRecord } from './types.js'

export interface TopicOptions<K, V> {
  key: Codec<K>
  value: Codec<V>
  /** Used when the app creates the topic. @default the app's `topicPartitions` (which defaults to 1) */
  partitions?: number
  /** @default the app's `topicReplicationFactor` (which defaults to 1) */
  replicationFactor?: number
  /** retention.ms when created; -1 keeps records forever. @default the broker's */
  retentionMs?: number
  /** cleanup.policy=compact when created. @default false */
  compacted?: boolean
  /** Further topic configs when created. */
  configs?: Record<string, string>
  /** True for topics the app makes for itself (repartition, dead letters); they are prefixed by the app id. */
  internal?: boolean
}

export const TOPIC_OPTIONS = keysOf<TopicOptions<unknown, unknown>>({
  key: true,
  value: true,
  partitions: true,
  replicationFactor: true,
  retentionMs: true,
  compacted: true,
  configs: true,
  internal: true,
})

/** How a topic reaches the broker: set by the app once it runs (or by the test driver). */
export interface TopicSender {
  send(records: ProducerRecord[]): Promise<RecordMetadata[]>
}

export class Topic<K, V> {
  readonly name: string
  readonly key: Codec<K>
  readonly value: Codec<V>
  readonly options: TopicOptions<K, V>
  #sender: (() => TopicSender) | undefined
  /** What an encoding error names: built once, not per record. */
  readonly #keyWhat: string
  readonly #valueWhat: string

  /** @internal (made by the app: app.topic, app.agent, app.compile) */
  constructor(name: string, options: TopicOptions<K, V>, sender?: () => TopicSender) {
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(name)) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Topic name "${name}" is not valid: use 1-249 of a-z A-Z 0-9 . _ -`,
      )
    }
    const example = `app.topic('${name}', { key: string, value: json() })`
    if (options === null || typeof options !== 'object')
      throw new TributaryError('INVALID_ARGUMENT', `Topic "${name}" needs its codecs: ${example}`)
    knownKeys(`Topic "${name}": option`, options, TOPIC_OPTIONS)
    for (const part of ['key', 'value'] as const) {
      const codec = options[part] as Partial<Codec<unknown>> | undefined
      if (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function')
        throw new TributaryError(
          'INVALID_ARGUMENT',
          `Topic "${name}": option "${part}" must be a codec (string, json(), raw, ...), got ${describeValue(codec)}: ${example}`,
        )
    }
    if (options.partitions !== undefined) {
      wholeNumber(`Topic "${name}": partitions`, options.partitions, 1, 'INVALID_PARTITIONS')
    }
    this.name = name
    this.key = options.key
    this.value = options.value
    this.options = options
    this.#sender = sender
    this.#keyWhat = `the key for topic "${name}"`
    this.#valueWhat = `the value for topic "${name}"`
  }

  /** A stream of this topic's events, to give an agent or to chain operators on. */
  stream(): Stream<K, V> {
    return Stream.from(this)
  }

  /** Encodes a typed record for this topic. */
  encode(record: OutgoingRecord<K, V>): ProducerRecord {
    const out: ProducerRecord = {
      topic: this.name,
      value: encodeWith(this.value, record.value, this.#valueWhat),
    }
    if (record.key !== undefined) out.key = encodeWith(this.key, record.key, this.#keyWhat)
    if (record.headers) out.headers = record.headers
    if (record.partition !== undefined) out.partition = record.partition
    if (record.timestamp !== undefined) out.timestamp = record.timestamp
    return out
  }

  /** Sends a record; resolves once the broker acknowledged it. Needs a running app (or test driver). */
  async send(record: OutgoingRecord<K, V>): Promise<RecordMetadata> {
    if (!this.#sender)
      throw new TributaryError('INVALID_ARGUMENT', `Topic "${this.name}" is not attached to an app`)
    const [meta] = await this.#sender().send([this.encode(record)])
    return meta!
  }

  /** The creation request for this topic, with the app's defaults filled in. */
  toNewTopic(defaults: { partitions: number; replicationFactor: number }): NewTopic {
    const configs: Record<string, string> = { ...this.options.configs }
    if (this.options.retentionMs !== undefined) configs['retention.ms'] = String(this.options.retentionMs)
    if (this.options.compacted) configs['cleanup.policy'] = 'compact'
    return {
      topic: this.name,
      partitions: this.options.partitions ?? defaults.partitions,
      replicationFactor: this.options.replicationFactor ?? defaults.replicationFactor,
      configs,
    }
  }
}
