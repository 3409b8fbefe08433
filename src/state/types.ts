/**
 * The state layer's types. A store is one table on one task: the bytes store at the bottom
 * (memory or LMDB) and the layers above it, whose names say what they add (store.ts):
 *
 *   MeteredStore (typed, counts) -> CachingStore (typed values, latest per key until a flush)
 *     -> ChangeLoggingStore (bytes, each write also sent to the changelog) -> MemoryStore | LmdbStore
 *
 * Invariant: the bytes store plus the changelog tail after its checkpoint hold every flushed write;
 * what is cached and not yet flushed belongs to records whose offsets are not committed yet.
 */

/** One write to a bytes store: a null value deletes the key (a tombstone in the changelog). */
export interface StoreWrite {
  readonly key: Buffer
  readonly value: Buffer | null
}

/** The bottom of the stack: a key-value store of bytes. A new kind of store implements this (one file). */
export interface BytesStore {
  /** True when the store outlives the process (it keeps a checkpoint; memory does not). */
  readonly persistent: boolean
  get(key: Buffer): Buffer | undefined
  /** Applies the writes in order, as one batch (one transaction where the store has them). */
  write(batch: readonly StoreWrite[]): void
  /** Every entry; in key-byte order where the store keeps one. */
  entries(): IterableIterator<[Buffer, Buffer]>
  /** The number of keys (may be approximate for large persistent stores). */
  count(): number
  /** The changelog offset from which a restore goes on, as last checkpointed; undefined: none. */
  readCheckpoint(): number | undefined
  /** Records the checkpoint; undefined removes it (the next restore starts from the beginning). */
  writeCheckpoint(offset: number | undefined): void
  /** Deletes every entry and the checkpoint (a restore from the beginning follows). */
  wipe(): void
  close(): Promise<void>
}

/** Where a bytes store lives: the table, the task, and the worker's state directory slot. */
export interface StoreLocation {
  /** The table's name. */
  readonly name: string
  /** The task that owns the store (`<subtopology>_<partition>`). */
  readonly taskId: string
  /** The worker's state directory slot (undefined: the worker has none). */
  readonly stateDir: string | undefined
  /** The worker's persisted id: a store directory named by URL is shared by the workers of a machine. */
  readonly workerId: string
}

/** Opens the bytes store of a URL scheme (`memory:`, `lmdb:`): see stores.ts. */
export type StoreOpener = (url: URL, location: StoreLocation) => BytesStore

/** A typed view of a store, as the table API uses it. */
export interface KeyValue<K, V> {
  get(key: K): V | undefined
  set(key: K, value: V): void
  delete(key: K): void
  has(key: K): boolean
  entries(): IterableIterator<[K, V]>
  /** The number of keys, cached writes included. */
  size(): number
}
