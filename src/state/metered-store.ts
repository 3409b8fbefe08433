/**
 * The metered layer (Kafka Streams' MeteredKeyValueStore): the outermost layer of a table's store,
 * counting reads, writes and deletes for /stats and /metrics. It adds no copy and no encoding.
 */
import type { CachingStore } from './caching-store.js'
import type { KeyValue } from './types.js'

export interface StoreCounts {
  gets: number
  sets: number
  deletes: number
}

export class MeteredStore<K, V> implements KeyValue<K, V> {
  readonly inner: CachingStore<K, V>
  readonly counts: StoreCounts = { gets: 0, sets: 0, deletes: 0 }

  constructor(inner: CachingStore<K, V>) {
    this.inner = inner
  }

  get(key: K): V | undefined {
    this.counts.gets++
    return this.inner.get(key)
  }

  has(key: K): boolean {
    this.counts.gets++
    return this.inner.has(key)
  }

  set(key: K, value: V): void {
    this.counts.sets++
    this.inner.set(key, value)
  }

  delete(key: K): void {
    this.counts.deletes++
    this.inner.delete(key)
  }

  entries(): IterableIterator<[K, V]> {
    return this.inner.entries()
  }

  size(): number {
    return this.inner.size()
  }
}
