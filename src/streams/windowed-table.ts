/**
 * Windowed tables: a value per key and window on event time (tumbling, hopping, sliding or session
 * windows), kept per partition task in a store whose changelog is compacted and time-limited, so windows
 * pending at a crash or a rebalance are restored and close after recovery. An agent that names the
 * table (`tables: [likes]`) folds each record into the windows of its time with `update`; when the
 * task's stream time (the highest record time seen, minus grace) passes a window's end, its final
 * value is emitted once: to `onWindowClose` and/or as a record of the `closed` topic. A record for
 * windows that closed already is late: dropped with a log line, or sent to the `late` topic, and
 * never emitted as a second, partial value. `idleMs` closes what is pending when input stops.
 * For live views, `updates` gets the running value of changed windows, at most once per window
 * every `updatesEveryMs` (their latest value), before the final one goes to `closed`.
 *
 * The task's stream time is kept in the same store (its own entry), so a restarted task knows which
 * windows it closed before.
 */
import { TributaryError, coordinates } from '../errors.js'
import { currentTask, type TaskScope } from '../runtime/task/scope.js'
import type { WindowStats } from '../runtime/task/state-manager.js'
import type { AnyEvent, StoreSpec } from '../runtime/types.js'
import { json } from '../serde/codecs.js'
import type { Codec } from '../serde/types.js'
import type { KeyValue } from '../state/types.js'
import { knownKeys, keysOf, wholeNumber } from '../validate.js'
import { WindowAggregator, type ClosedWindow } from '../windows/aggregator.js'
import { describeWindow, describeWindows, keptFor, type TimeWindow, type Windows } from '../windows/kinds.js'
import {
  recordKeyBytes,
  storedCodec,
  STREAM_TIME,
  windowedCodec,
  type Slot,
  type Stored,
  type Windowed,
} from '../windows/keys.js'
import { checkTimeSource, timeOf, type TimeSource } from '../windows/time.js'
import { Table } from './table.js'
import type { Topic } from './topic.js'

/** A closed window as the `closed` topic carries it (keyed by the record key, timestamped at its end). */
export interface WindowValue<V> {
  readonly start: number
  readonly end: number
  readonly value: V
}

export interface WindowedTableOptions<K, V> {
  /** tumbling(size), hopping(size, advance), sliding(size) or session(gap), each with grace and retention. */
  windows: Windows
  /** A window's value before its first record: a value, or a function that makes one (for objects). */
  initial: V | (() => V)
  /** Two sessions' values as one, for a record that bridges them (session windows). */
  merge?: (a: V, b: V) => V
  /** Where a record's time comes from. @default 'event' (the record timestamp) */
  time?: TimeSource
  /** Called once with each window's final value, when it closes (inside the task: its table writes and outputs count). */
  onWindowClose?: (key: K, window: TimeWindow, value: V) => void
  /** A topic that gets each closed window as `{ start, end, value }`, keyed by the record key. */
  closed?: Topic<K, WindowValue<V>>
  /** Records for closed windows: 'drop' (counted, logged) or a topic that gets their original bytes. @default 'drop' */
  late?: 'drop' | Topic<unknown, unknown>
  /** Closes every pending window of a task after this long without a record on the app's clock. @default none */
  idleMs?: number
  /** A topic that gets the running value of each changed open window, `{ start, end, value }` (live views). */
  updates?: Topic<K, WindowValue<V>>
  /** Sends a changed window's running value at most this often (its latest value); 0: at every change. @default 1000 */
  updatesEveryMs?: number
  /** @default the key codec of the stream of the first agent that names the table */
  key?: Codec<K>
  /** @default json() */
  value?: Codec<V>
  /** `memory://` or `lmdb://[directory]`. @default the app's `store` */
  store?: string
  /** Windows kept decoded in each task's cache. @default 10000 */
  cacheMaxEntries?: number
}

export const WINDOWED_TABLE_OPTIONS = keysOf<WindowedTableOptions<unknown, unknown>>({
  windows: true,
  initial: true,
  merge: true,
  time: true,
  onWindowClose: true,
  closed: true,
  late: true,
  idleMs: true,
  updates: true,
  updatesEveryMs: true,
  key: true,
  value: true,
  store: true,
  cacheMaxEntries: true,
})

/** How long a windowed changelog keeps records past a window's retention (Kafka Streams' additional retention). */
const CHANGELOG_EXTRA_RETENTION_MS = 24 * 60 * 60 * 1000
/** Late records are logged at most this often per task (with the count so far). */
const LATE_LOG_EVERY_MS = 10_000

type Store<K, V> = KeyValue<Windowed<K>, Stored<V>>

/** The engine of one task: the window aggregator over that task's store. */
interface TaskWindows<K, V> {
  readonly engine: WindowAggregator<K, V>
  readonly store: Store<K, V>
  /** The task's window counts, for /stats and /metrics. */
  readonly stats: WindowStats
  lastRecordAt: number
  lateLoggedAt: number
  /** Changed open windows whose running value is not sent yet (updates throttled), by window and key. */
  readonly changed: Map<string, ClosedWindow<K, V>>
}

const windowId = (key: unknown, window: TimeWindow): string =>
  `${window.start}:${window.end}:${JSON.stringify(key) ?? String(key)}`

/** The store as the engine sees it: windows only, without the task's stream-time entry. */
function windowsOf<K, V>(store: Store<K, V>): KeyValue<Windowed<K>, Slot<V>> {
  const slot = (stored: Stored<V> | undefined): Slot<V> | undefined =>
    stored === undefined || !('value' in stored) ? undefined : stored
  return {
    get: (key) => slot(store.get(key)),
    set: (key, value) => store.set(key, value),
    delete: (key) => store.delete(key),
    has: (key) => slot(store.get(key)) !== undefined,
    size: () => store.size() - (store.has(STREAM_TIME) ? 1 : 0),
    *entries() {
      for (const [key, stored] of store.entries()) if ('value' in stored) yield [key, stored]
    },
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export class WindowedTable<K, V> {
  readonly name: string
  readonly windows: Windows
  /** @internal the table the app registers: its store holds the windows. */
  readonly table: Table<Windowed<K>, Stored<V>>
  readonly #options: WindowedTableOptions<K, V>
  readonly #initial: () => V
  readonly #time: TimeSource
  readonly #tasks = new WeakMap<object, TaskWindows<K, V>>()

  /** @internal (made by app.windowedTable) */
  constructor(name: string, options: WindowedTableOptions<K, V>) {
    knownKeys(`Windowed table "${name}": option`, options, WINDOWED_TABLE_OPTIONS)
    const windows = options.windows as Windows | undefined
    if (windows === undefined || typeof windows !== 'object' || !('kind' in windows))
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Windowed table "${name}": windows must be tumbling(size), hopping(size, advance), sliding(size) or session(gap)`,
      )
    if (windows.kind === 'session' && typeof options.merge !== 'function')
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Windowed table "${name}": session windows need merge(a, b): a record that bridges two sessions makes them one`,
      )
    if (!('initial' in options))
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Windowed table "${name}": give initial, a window's value before its first record (e.g. initial: 0)`,
      )
    const given = options.initial
    if (given !== null && typeof given === 'object')
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Windowed table "${name}": an initial object would be shared by every window; give a function that makes one: initial: () => (${JSON.stringify(given)})`,
      )
    if (options.idleMs !== undefined) wholeNumber(`Windowed table "${name}": idleMs`, options.idleMs, 1)
    if (options.updatesEveryMs !== undefined)
      wholeNumber(`Windowed table "${name}": updatesEveryMs`, options.updatesEveryMs, 0)
    this.#time = checkTimeSource(options.time ?? 'event', `Windowed table "${name}"`)
    this.#initial = typeof given === 'function' ? (given as () => V) : () => given
    this.name = name
    this.windows = windows
    this.#options = options
    const { key, value, store, cacheMaxEntries } = options
    this.table = new Table<Windowed<K>, Stored<V>>(name, {
      ...(store === undefined ? {} : { store }),
      ...(cacheMaxEntries === undefined ? {} : { cacheMaxEntries }),
    })
    // The windowed codecs wrap the ones given (or the stream's key codec, known at compile).
    const spec = this.table.spec.bind(this.table)
    this.table.spec = (appId, defaults): StoreSpec => {
      const base = spec(appId, defaults)
      return {
        ...base,
        key: windowedCodec((key ?? defaults.key) as Codec<K>),
        recordKey: (key ?? defaults.key) as Codec<K>,
        value: storedCodec(value ?? json<V>()),
        keyPart: recordKeyBytes,
        changelogConfigs: {
          'cleanup.policy': 'compact,delete',
          'retention.ms': String(keptFor(windows) + CHANGELOG_EXTRA_RETENTION_MS),
        },
      }
    }
  }

  #scope(what: string): TaskScope {
    const task = currentTask()
    if (task === undefined)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `windowed table "${this.name}": ${what}() outside an agent; it is used by the agents that name it (tables: [${this.name}])`,
      )
    return task
  }

  /** The engine of the task in scope, made (and rebuilt from its store) on first use. */
  #task(scope: TaskScope): TaskWindows<K, V> {
    const store = scope.store(this.name) as Store<K, V> | undefined
    if (store === undefined)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `windowed table "${this.name}" is used by "${scope.processor}" (task ${scope.taskId}), which does not name it: ` +
          `declare it with the agent, app.agent(name, stream, body, { tables: [${this.name}] })`,
      )
    let task = this.#tasks.get(store)
    if (task === undefined) {
      const saved = store.get(STREAM_TIME)
      const streamTime = saved !== undefined && 'streamTime' in saved ? saved.streamTime : -1
      const merge = this.#options.merge
      const engine = new WindowAggregator<K, V>(
        this.windows,
        windowsOf(store),
        { initial: this.#initial, ...(merge ? { merge } : {}) },
        streamTime,
      )
      const stats = scope.windowStats(this.name) ?? { pending: 0, closed: 0, late: 0, streamTime: -1 }
      stats.pending = engine.pending
      stats.streamTime = engine.streamTime
      task = { engine, store, stats, lastRecordAt: scope.now(), lateLoggedAt: -Infinity, changed: new Map() }
      this.#tasks.set(store, task)
      const everyMs = this.#options.updatesEveryMs ?? 1_000
      if (this.#options.updates && everyMs > 0) {
        const made = task
        scope.schedule(everyMs, 'wall', () => this.#sendUpdates(scope, made))
      }
      const idleMs = this.#options.idleMs
      if (idleMs !== undefined) {
        const made = task
        scope.schedule(Math.max(1, Math.min(idleMs, 1_000)), 'wall', () => {
          if (made.engine.pending > 0 && scope.now() - made.lastRecordAt >= idleMs)
            this.#emit(scope, made, made.engine.closeAll())
        })
      }
    }
    return task
  }

  /**
   * Folds the record in process into every open window of `key` that contains its time, as
   * `fn(current value or initial)`, then closes the windows that stream time passed. Returns the
   * value of the record's newest window, or undefined when the record was late (all its windows
   * had closed: it went to the late policy).
   */
  update(key: K, fn: (current: V) => V): V | undefined {
    const scope = this.#scope('update')
    const event = scope.event()
    if (event === undefined)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `windowed table "${this.name}": update() needs a record in process (call it from the agent's body)`,
      )
    const task = this.#task(scope)
    const time = timeOf(this.#time, event, () => scope.now())
    task.lastRecordAt = scope.now()
    const added = task.engine.add(key, time, fn)
    let result: V | undefined
    if (added.late) this.#late(scope, task, event, key, time, added.windows)
    else {
      result = added.updated[added.updated.length - 1]?.value
      if (this.#options.updates) {
        for (const u of added.updated) task.changed.set(windowId(u.key, u.window), u)
        if ((this.#options.updatesEveryMs ?? 1_000) === 0) this.#sendUpdates(scope, task)
      }
    }
    this.#emit(scope, task, task.engine.advance(task.engine.streamTime))
    return result
  }

  /** Sends the running value of every changed open window once (the latest), then forgets them. */
  #sendUpdates(scope: TaskScope, task: TaskWindows<K, V>): void {
    const topic = this.#options.updates
    if (!topic || task.changed.size === 0) return
    for (const { key, window, value } of task.changed.values())
      scope.emit(topic.encode({ key, value: { start: window.start, end: window.end, value } }))
    task.changed.clear()
  }

  #emit(scope: TaskScope, task: TaskWindows<K, V>, closed: Array<ClosedWindow<K, V>>): void {
    // stats.streamTime is what the store holds (read back at the engine's start, kept since): no
    // store read per record.
    const streamTime = task.engine.streamTime
    if (task.stats.streamTime !== streamTime) task.store.set(STREAM_TIME, { streamTime })
    task.stats.pending = task.engine.pending
    task.stats.closed += closed.length
    task.stats.streamTime = streamTime
    const { onWindowClose, closed: topic } = this.#options
    for (const { key, window, value } of closed) {
      // Its final value follows: a running value not sent yet would come after it, out of date.
      task.changed.delete(windowId(key, window))
      onWindowClose?.(key, window, value)
      if (topic)
        scope.emit(
          topic.encode({
            key,
            value: { start: window.start, end: window.end, value },
            timestamp: window.end,
          }),
        )
    }
  }

  #late(
    scope: TaskScope,
    task: TaskWindows<K, V>,
    event: AnyEvent,
    key: K,
    time: number,
    windows: readonly TimeWindow[],
  ): void {
    task.stats.late++
    const late = this.#options.late ?? 'drop'
    if (late !== 'drop') {
      scope.emit({
        topic: late.name,
        key: event.raw.key,
        value: event.raw.value,
        headers: event.headers,
        timestamp: event.timestamp,
      })
      return
    }
    const now = scope.now()
    if (now - task.lateLoggedAt < LATE_LOG_EVERY_MS) return
    task.lateLoggedAt = now
    const spans = windows.map((w) => describeWindow(this.windows, w)).join(', ')
    scope.log(
      'warn',
      `windowed table "${this.name}" (${describeWindows(this.windows)}): record ${coordinates(event.topic, event.partition, event.offset)} ` +
        `of key ${JSON.stringify(key) ?? String(key)} at ${time} is late for ${spans}, closed at stream time ${task.engine.streamTime}; ` +
        `dropped (${task.stats.late} late record(s) on task ${scope.taskId} so far; late: topic sends them on)`,
    )
  }

  /** Where a record's time comes from. */
  get time(): TimeSource {
    return this.#time
  }

  /** @internal The topics the table sends to (closed windows, late records): the app checks they are declared. */
  topics(): Array<Topic<any, any>> {
    const { closed, late, updates } = this.#options
    return [
      ...(closed ? [closed] : []),
      ...(updates ? [updates] : []),
      ...(late && late !== 'drop' ? [late] : []),
    ]
  }

  /** Late records dropped or sent on by the task in scope (in an agent), or by this worker's tasks. */
  lateRecords(): number {
    const scope = currentTask()
    if (scope === undefined) return 0
    const store = scope.store(this.name)
    return store ? (this.#tasks.get(store)?.stats.late ?? 0) : 0
  }

  /** The value of `key` in the window that contains `time` (the newest one for hopping windows; sessions: the session around it). */
  at(key: K, time: number): V | undefined {
    const found = this.range(key, time, time)
    return found[found.length - 1]?.value
  }

  /** The value of `key` in the window of the task's stream time (the current window). */
  current(key: K): V | undefined {
    const task = this.#task(this.#scope('current'))
    return this.at(key, Math.max(0, task.engine.streamTime))
  }

  /** The windows of `key` in the last `ms` of stream time, oldest first. */
  last(key: K, ms: number): Array<ClosedWindow<K, V>> {
    const task = this.#task(this.#scope('last'))
    const now = task.engine.streamTime
    return this.range(key, Math.max(0, now - ms), now)
  }

  /** The windows of `key` that overlap `[from, to]` held now (open, or closed and still retained), oldest first. */
  range(key: K, from: number, to: number): Array<ClosedWindow<K, V>> {
    return this.#task(this.#scope('range')).engine.range(key, from, to)
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */
