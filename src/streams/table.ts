/**
 * Tables: a key-value view kept per partition task and logged to a compacted changelog topic,
 * `<appId>-<name>-changelog`, from which a task restores it before it processes a record. An agent
 * names the tables it uses (`tables: [counts]`); inside its body `counts.get(key)` and
 * `counts.set(key, n)` reach the store of the task whose record is in process (runtime/task/scope).
 * Outside an agent (a timer, a web handler, a test), a table can be read, not written.
 */
import { TributaryError } from '../errors.js'
import { currentTask } from '../runtime/task/scope.js'
import type { StoreSpec } from '../runtime/types.js'
import { parseStoreUrl } from '../state/stores.js'
import type { KeyValue } from '../state/types.js'
import { describeValue, json } from '../serde/codecs.js'
import type { Codec } from '../serde/types.js'
import { keysOf, knownKeys, wholeNumber } from '../validate.js'

export interface TableOptions<K, V> {
  /** @default the key codec of the stream of the first agent that names the table */
  key?: Codec<K>
  /** @default json() */
  value?: Codec<V>
  /** What get() returns for a missing key: a value, or a function that makes one (for objects). @default none (undefined) */
  default?: V | (() => V)
  /** `memory://` (restored from the changelog at every start) or `lmdb://[directory]` (kept on disk). @default the app's `store` */
  store?: string
  /** Keys kept decoded in each task's cache; the latest value per key is written to the changelog at each commit. @default 10000 */
  cacheMaxEntries?: number
}

export const TABLE_OPTIONS = keysOf<TableOptions<unknown, unknown>>({
  key: true,
  value: true,
  default: true,
  store: true,
  cacheMaxEntries: true,
})

/** How a table reads outside an agent: the stores of this worker's tasks (set by the running app). */
export interface TableReader {
  /** The local store holding `key`, or an error naming why there is none. */
  storeFor(table: string, key: unknown): KeyValue<unknown, unknown>
  /** Every local store of the table. */
  stores(table: string): KeyValue<unknown, unknown>[]
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export class Table<K, V, G extends V | undefined = V | undefined> {
  readonly name: string
  readonly options: TableOptions<K, V>
  readonly #default: (() => V) | undefined
  #reader: (() => TableReader | undefined) | undefined

  /** @internal (made by app.table) */
  constructor(name: string, options: TableOptions<K, V>, reader?: () => TableReader | undefined) {
    if (!/^[a-zA-Z0-9._-]+$/.test(name))
      throw new TributaryError('INVALID_ARGUMENT', `Table name "${name}" is not valid: use a-z A-Z 0-9 . _ -`)
    knownKeys(`Table "${name}": option`, options, TABLE_OPTIONS)
    for (const part of ['key', 'value'] as const) {
      const codec = options[part] as Partial<Codec<unknown>> | undefined
      if (codec !== undefined && (typeof codec.encode !== 'function' || typeof codec.decode !== 'function'))
        throw new TributaryError(
          'INVALID_ARGUMENT',
          `Table "${name}": option "${part}" must be a codec (string, json(), ...), got ${describeValue(codec)}`,
        )
    }
    if (options.store !== undefined) parseStoreUrl(options.store, name)
    if (options.cacheMaxEntries !== undefined)
      wholeNumber(`Table "${name}": cacheMaxEntries`, options.cacheMaxEntries, 1)
    const given = options.default
    if (given !== null && typeof given === 'object')
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Table "${name}": a default object would be shared by every key; give a function that makes one: default: () => (${JSON.stringify(given)})`,
      )
    this.#default =
      given === undefined ? undefined : typeof given === 'function' ? (given as () => V) : () => given
    this.name = name
    this.options = options
    this.#reader = reader
  }

  /** @internal The runtime's view of the table, with the defaults of the app and the agent's stream. */
  spec(appId: string, defaults: { store: string; key: Codec<any> }): StoreSpec {
    return {
      name: this.name,
      changelog: `${appId}-${this.name}-changelog`,
      url: this.options.store ?? defaults.store,
      key: this.options.key ?? defaults.key,
      value: this.options.value ?? json(),
      cacheMaxEntries: this.options.cacheMaxEntries ?? 10_000,
    }
  }

  /** The store of the task in process; outside one, the local store of the key (reads only). */
  #store(key: K, write: string | undefined): KeyValue<K, V> {
    const task = currentTask()
    if (task !== undefined) {
      const store = task.store(this.name)
      if (store) return store as KeyValue<K, V>
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `table "${this.name}" is used by "${task.processor}" (task ${task.taskId}), which does not name it: ` +
          `declare it with the agent, app.agent(name, stream, body, { tables: [${this.name}] })`,
      )
    }
    if (write !== undefined)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `table "${this.name}": ${write}() outside an agent; a table is written only by the agents that name it (tables: [...]), on the task of the record in process`,
      )
    return this.#readerOrThrow().storeFor(this.name, key) as KeyValue<K, V>
  }

  #readerOrThrow(): TableReader {
    const reader = this.#reader?.()
    if (!reader)
      throw new TributaryError(
        'CLOSED',
        `table "${this.name}": the app is not running, so its table has no stores`,
      )
    return reader
  }

  /** The value of `key`, or the table's default when it has none. */
  get(key: K): G {
    const value = this.#store(key, undefined).get(key)
    if (value !== undefined || this.#default === undefined) return value as G
    return this.#default() as G
  }

  has(key: K): boolean {
    return this.#store(key, undefined).has(key)
  }

  set(key: K, value: V): void {
    this.#store(key, 'set').set(key, value)
  }

  delete(key: K): void {
    this.#store(key, 'delete').delete(key)
  }

  /** Sets `key` to `fn(current value or default)` and returns it: `counts.update(id, (n) => n + 1)`. */
  update(key: K, fn: (current: G) => V): V {
    const store = this.#store(key, 'update')
    const current = store.get(key)
    const next = fn((current !== undefined || this.#default === undefined ? current : this.#default()) as G)
    store.set(key, next)
    return next
  }

  /** Every entry of the task in process; outside an agent, of every task of this worker. */
  *entries(): IterableIterator<[K, V]> {
    const task = currentTask()
    if (task !== undefined) {
      yield* this.#store(undefined as K, undefined).entries()
      return
    }
    for (const store of this.#readerOrThrow().stores(this.name)) yield* (store as KeyValue<K, V>).entries()
  }

  /** The number of keys (of the task in process, or of every task of this worker). */
  size(): number {
    const task = currentTask()
    if (task !== undefined) return this.#store(undefined as K, undefined).size()
    let n = 0
    for (const store of this.#readerOrThrow().stores(this.name)) n += store.size()
    return n
  }

  /** @internal Set by the app when it starts and stops. */
  attach(reader: (() => TableReader | undefined) | undefined): void {
    this.#reader = reader
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */
