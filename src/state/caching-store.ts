/**
 * The caching layer (Kafka Streams' CachingKeyValueStore, with typed values): reads and writes of
 * a table hit a map of decoded values, and `flush()`, in the commit's prepare phase, encodes the
 * latest value of each key written since the last flush and writes them down as one batch. So the
 * changelog grows with commits times keys written, not with updates (100,000 increments of one key
 * between two commits are one changelog record), and a hot key is never decoded twice.
 *
 * The cache holds at most `maxEntries` keys; past that the oldest are evicted, the written ones
 * written down first (the changelog then gets them before the commit: early, never lost).
 */
import { TributaryError } from '../errors.js'
import type { Codec } from '../serde/types.js'
import type { ChangeLoggingStore } from './change-logging-store.js'
import type { KeyValue, StoreWrite } from './types.js'

interface Entry<K, V> {
  key: K
  bytes: Buffer
  value: V | undefined
  present: boolean
  dirty: boolean
}

export interface CacheOptions<K, V> {
  readonly table: string
  readonly key: Codec<K>
  readonly value: Codec<V>
  readonly maxEntries: number
  /** Called with the encoded key when a key enters the cache: throws when the key is not this task's. */
  readonly admit?: (bytes: Buffer, key: unknown) => void
}

/** A primitive key is its own map key; anything else is looked up by its encoding. */
const isPrimitive = (key: unknown): boolean =>
  key === null || (typeof key !== 'object' && typeof key !== 'function')

export class CachingStore<K, V> implements KeyValue<K, V> {
  readonly lower: ChangeLoggingStore
  readonly #options: CacheOptions<K, V>
  readonly #cache = new Map<unknown, Entry<K, V>>()
  #dirty = 0

  constructor(lower: ChangeLoggingStore, options: CacheOptions<K, V>) {
    this.lower = lower
    this.#options = options
  }

  #encodeKey(key: K): Buffer {
    let bytes: Buffer | null
    try {
      bytes = this.#options.key.encode(key)
    } catch (error) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `table "${this.#options.table}": the key could not be encoded with codec ${this.#options.key.name}: ${String(error)}`,
        { cause: error },
      )
    }
    if (bytes === null)
      throw new TributaryError('INVALID_ARGUMENT', `table "${this.#options.table}": a key cannot be null`)
    return bytes
  }

  #mapKey(key: K): unknown {
    return isPrimitive(key) ? key : this.#encodeKey(key).toString('latin1')
  }

  #entry(key: K, read: boolean): Entry<K, V> {
    const mapKey = this.#mapKey(key)
    const found = this.#cache.get(mapKey)
    if (found !== undefined) return found
    const bytes = this.#encodeKey(key)
    this.#options.admit?.(bytes, key)
    const raw = read ? this.lower.get(bytes) : undefined
    const entry: Entry<K, V> = {
      key,
      bytes,
      value: raw === undefined ? undefined : this.#options.value.decode(raw),
      present: raw !== undefined,
      dirty: false,
    }
    this.#cache.set(mapKey, entry)
    if (this.#cache.size > this.#options.maxEntries) this.#evict()
    return entry
  }

  get(key: K): V | undefined {
    const entry = this.#entry(key, true)
    return entry.present ? entry.value : undefined
  }

  has(key: K): boolean {
    return this.#entry(key, true).present
  }

  set(key: K, value: V): void {
    if (value === undefined)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `table "${this.#options.table}": a value cannot be undefined (delete the key instead)`,
      )
    const entry = this.#entry(key, false)
    entry.value = value
    entry.present = true
    if (!entry.dirty) {
      entry.dirty = true
      this.#dirty++
    }
  }

  delete(key: K): void {
    const entry = this.#entry(key, false)
    entry.value = undefined
    entry.present = false
    if (!entry.dirty) {
      entry.dirty = true
      this.#dirty++
    }
  }

  /** Keys written since the last flush. */
  get dirty(): number {
    return this.#dirty
  }

  *entries(): IterableIterator<[K, V]> {
    const { key: keyCodec, value: valueCodec } = this.#options
    for (const [bytes, raw] of this.lower.inner.entries()) {
      const key = keyCodec.decode(bytes)
      if (this.#cache.has(this.#mapKey(key))) continue
      yield [key, valueCodec.decode(raw)]
    }
    for (const entry of this.#cache.values()) if (entry.present) yield [entry.key, entry.value as V]
  }

  size(): number {
    let n = this.lower.inner.count()
    for (const entry of this.#cache.values()) {
      if (!entry.dirty) continue
      const stored = this.lower.get(entry.bytes) !== undefined
      if (entry.present && !stored) n++
      else if (!entry.present && stored) n--
    }
    return n
  }

  /** Writes the latest value of every key written since the last flush down, as one batch. */
  flush(): void {
    if (this.#dirty === 0) return
    const batch: StoreWrite[] = []
    for (const entry of this.#cache.values()) if (entry.dirty) batch.push(this.#takeWrite(entry))
    this.lower.write(batch)
  }

  #takeWrite(entry: Entry<K, V>): StoreWrite {
    entry.dirty = false
    this.#dirty--
    if (!entry.present) return { key: entry.bytes, value: null }
    let value: Buffer | null
    try {
      value = this.#options.value.encode(entry.value as V)
    } catch (error) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `table "${this.#options.table}": the value could not be encoded with codec ${this.#options.value.name}: ${String(error)}`,
        { cause: error },
      )
    }
    if (value === null)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `table "${this.#options.table}": a value encoded to null (a tombstone): delete the key instead`,
      )
    return { key: entry.bytes, value }
  }

  /** Evicts the oldest tenth of the cache; written keys among them are written down first. */
  #evict(): void {
    const batch: StoreWrite[] = []
    let n = Math.max(1, Math.floor(this.#options.maxEntries / 10))
    for (const [mapKey, entry] of this.#cache) {
      if (n-- <= 0) break
      if (entry.dirty) batch.push(this.#takeWrite(entry))
      this.#cache.delete(mapKey)
    }
    this.lower.write(batch)
  }

  /** Forgets what is cached, written or not (a task rewound to its last commit). */
  reset(): void {
    this.#cache.clear()
    this.#dirty = 0
  }
}
