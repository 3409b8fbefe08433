/**
 * Global tables: every worker holds every key (Kafka Streams' GlobalKTable). The table lives in a
 * compacted topic `<appId>-<name>-global`; each worker restores all of it before it processes a
 * record and keeps tailing it, so a value written on one worker is readable on all (after the
 * write has gone round the topic; the writing worker sees it at once). Reads need no
 * co-partitioning: any agent, timer or web handler reads any key.
 */
import { TributaryError } from '../errors.js'
import { describeValue, json } from '../serde/codecs.js'
import type { Codec } from '../serde/types.js'
import type { ProducerRecord } from '../transport/types.js'
import { keysOf, knownKeys } from '../validate.js'

export interface GlobalTableOptions<K, V> {
  /** @default json() */
  key?: Codec<K>
  /** @default json() */
  value?: Codec<V>
  /** What get() returns for a missing key: a value, or a function that makes one. @default none */
  default?: V | (() => V)
  /** Partitions of its topic when the app creates it. @default the app's `topicPartitions` */
  partitions?: number
}

export const GLOBAL_TABLE_OPTIONS = keysOf<GlobalTableOptions<unknown, unknown>>({
  key: true,
  value: true,
  default: true,
  partitions: true,
})

/** How a global table sends its writes (the running app's producer). */
export type GlobalSend = (records: ProducerRecord[]) => Promise<unknown>

export class GlobalTable<K, V, G extends V | undefined = V | undefined> {
  readonly name: string
  readonly topic: string
  readonly key: Codec<K>
  readonly value: Codec<V>
  readonly options: GlobalTableOptions<K, V>
  readonly #default: (() => V) | undefined
  /** latin1 of the encoded key -> [key, value] */
  readonly #entries = new Map<string, [K, V]>()
  #send: GlobalSend | undefined

  /** @internal (made by app.globalTable) */
  constructor(appId: string, name: string, options: GlobalTableOptions<K, V>) {
    if (!/^[a-zA-Z0-9._-]+$/.test(name))
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Global table name "${name}" is not valid: use a-z A-Z 0-9 . _ -`,
      )
    knownKeys(`Global table "${name}": option`, options, GLOBAL_TABLE_OPTIONS)
    const given = options.default
    if (given !== null && typeof given === 'object')
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Global table "${name}": a default object would be shared by every key; give a function that makes one`,
      )
    this.#default =
      given === undefined ? undefined : typeof given === 'function' ? (given as () => V) : () => given
    this.name = name
    this.topic = `${appId}-${name}-global`
    this.key = options.key ?? json<K>()
    this.value = options.value ?? json<V>()
    this.options = options
  }

  #encodeKey(key: K): Buffer {
    const bytes = this.key.encode(key)
    if (bytes === null)
      throw new TributaryError('INVALID_ARGUMENT', `global table "${this.name}": a key cannot be null`)
    return bytes
  }

  get(key: K): G {
    const found = this.#entries.get(this.#encodeKey(key).toString('latin1'))
    if (found !== undefined) return found[1] as G
    return (this.#default ? this.#default() : undefined) as G
  }

  has(key: K): boolean {
    return this.#entries.has(this.#encodeKey(key).toString('latin1'))
  }

  *entries(): IterableIterator<[K, V]> {
    for (const entry of this.#entries.values()) yield entry
  }

  size(): number {
    return this.#entries.size
  }

  /** Writes `key` for every worker; resolves once the broker acknowledged it (this worker reads it at once). */
  async set(key: K, value: V): Promise<void> {
    const bytes = this.#encodeKey(key)
    const encoded = this.value.encode(value)
    if (encoded === null)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `global table "${this.name}": value ${describeValue(value)} encoded to null; delete the key instead`,
      )
    await this.#write(bytes, encoded)
    this.#entries.set(bytes.toString('latin1'), [key, value])
  }

  async delete(key: K): Promise<void> {
    const bytes = this.#encodeKey(key)
    await this.#write(bytes, null)
    this.#entries.delete(bytes.toString('latin1'))
  }

  async #write(key: Buffer, value: Buffer | null): Promise<void> {
    if (!this.#send)
      throw new TributaryError(
        'CLOSED',
        `global table "${this.name}": the app is not running, so it cannot be written`,
      )
    await this.#send([{ topic: this.topic, key, value }])
  }

  /** @internal A record of the table's topic, from the updater (runtime/global/updater.ts). */
  apply(key: Buffer, value: Buffer | null): void {
    const k = key.toString('latin1')
    if (value === null) this.#entries.delete(k)
    else this.#entries.set(k, [this.key.decode(key), this.value.decode(value)])
  }

  /** @internal Set by the app when it starts (a sender) and stops (none; the copy is forgotten). */
  attach(send: GlobalSend | undefined): void {
    this.#send = send
    if (!send) this.#entries.clear()
  }
}
