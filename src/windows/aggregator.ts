/**
 * The window engine of one windowed table on one task, over the task's store of windowed keys: it
 * folds a record into every window of its key that contains the record's time, tells a late record
 * (one whose windows all closed) from a good one, and closes windows as the task's stream time
 * passes their closing time, each once, oldest first, with its final value. Closed windows leave the
 * store when their retention ends (by default at once), as tombstones in the changelog.
 *
 * It keeps no state of its own that the store does not hold: the open windows' index is rebuilt
 * from the store after a restore, and the stream time is given back by the caller (who keeps it
 * durable), so windows pending at a crash close after recovery, with their full value.
 */
import { TributaryError } from '../errors.js'
import type { KeyValue } from '../state/types.js'
import { closesAt, windowsFor, type TimeWindow, type Windows } from './kinds.js'
import type { Windowed } from './keys.js'
import { PendingWindows } from './pending.js'
import { mergeSessions } from './sessions.js'

/** A window's final value, emitted when it closes. */
export interface ClosedWindow<K, V> {
  readonly key: K
  readonly window: TimeWindow
  readonly value: V
}

export interface AggregatorOptions<K, V> {
  /** The value of a window before its first record. */
  readonly initial: () => V
  /** Two sessions' values as one, when a record bridges them (session windows only). */
  readonly merge?: (a: V, b: V) => V
  /** A string that identifies a key (equal keys, equal strings). @default JSON.stringify */
  readonly keyId?: (key: K) => string
}

/** What adding a record did: the windows it updated with their new values, or that it was late. */
export type Added<K, V> =
  | { readonly late: false; readonly updated: ReadonlyArray<ClosedWindow<K, V>> }
  | { readonly late: true; readonly windows: readonly TimeWindow[] }

interface Open<K> {
  readonly key: K
  readonly window: TimeWindow
}

export class WindowAggregator<K, V> {
  readonly windows: Windows
  readonly #store: KeyValue<Windowed<K>, V>
  readonly #options: AggregatorOptions<K, V>
  readonly #keyId: (key: K) => string
  /** Open windows by closing time. */
  readonly #open = new PendingWindows<Open<K>>()
  /** Closed windows kept for their retention, by the stream time at which they leave. */
  readonly #kept = new PendingWindows<Open<K>>()
  /** The open sessions of each key (session windows only). */
  readonly #sessions = new Map<string, TimeWindow[]>()
  #streamTime: number

  constructor(
    windows: Windows,
    store: KeyValue<Windowed<K>, V>,
    options: AggregatorOptions<K, V>,
    streamTime = -1,
  ) {
    if (windows.kind === 'sliding')
      throw new TributaryError('NOT_SUPPORTED', 'sliding windows are not available yet in windowed tables')
    if (windows.kind === 'session' && options.merge === undefined)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        'session windows need merge(a, b): a record that bridges two sessions makes them one',
      )
    this.windows = windows
    this.#store = store
    this.#options = options
    this.#keyId = options.keyId ?? ((key) => JSON.stringify(key) ?? String(key))
    this.#streamTime = streamTime
    this.#rebuild()
  }

  /** The highest record time seen (given back after a restore); -1 before the first. */
  get streamTime(): number {
    return this.#streamTime
  }

  /** Windows not closed yet. */
  get pending(): number {
    return this.#open.size
  }

  #id(key: K, window: TimeWindow): string {
    return `${window.start}:${window.end}:${this.#keyId(key)}`
  }

  /** Indexes what the store holds: windows open at the stream time, and closed ones still kept. */
  #rebuild(): void {
    for (const [{ key, window }] of this.#store.entries()) this.#index(key, window)
  }

  #index(key: K, window: TimeWindow): void {
    const id = this.#id(key, window)
    const closes = closesAt(this.windows, window)
    if (closes > this.#streamTime) {
      this.#open.add(closes, id, { key, window })
      if (this.windows.kind === 'session') {
        const k = this.#keyId(key)
        const list = this.#sessions.get(k)
        if (list) list.push(window)
        else this.#sessions.set(k, [window])
      }
    } else this.#kept.add(this.#leavesAt(window), id, { key, window })
  }

  /** When a window leaves the store: `retention` after its start (sessions: after their end). */
  #leavesAt(window: TimeWindow): number {
    const from = this.windows.kind === 'session' ? window.end : window.start
    return Math.max(from + this.windows.retention, closesAt(this.windows, window))
  }

  /**
   * Folds a record at `time` into its key's windows with `fold` and moves stream time to it (the
   * caller then closes what it passed: advance()). A record whose windows are all closed is late:
   * nothing changes, and the caller sends it to the late policy.
   */
  add(key: K, time: number, fold: (value: V) => V): Added<K, V> {
    if (!Number.isFinite(time) || time < 0)
      throw new TributaryError('INVALID_ARGUMENT', `a window time must be a number >= 0, got ${time}`)
    const streamTime = Math.max(this.#streamTime, time)
    const windows = this.windows
    if (windows.kind === 'session') return this.#addToSession(key, time, fold, streamTime)
    if (windows.kind === 'sliding') throw new TributaryError('NOT_SUPPORTED', 'sliding windows')
    const all = windowsFor(windows, time)
    const open = all.filter((w) => closesAt(this.windows, w) > streamTime)
    if (open.length === 0) return { late: true, windows: all }
    this.#streamTime = streamTime
    const updated: Array<ClosedWindow<K, V>> = []
    for (const window of open) {
      const windowed = { key, window }
      const current = this.#store.get(windowed)
      const value = fold(current === undefined ? this.#options.initial() : current)
      this.#store.set(windowed, value)
      if (current === undefined) this.#index(key, window)
      updated.push({ key, window, value })
    }
    return { late: false, updated }
  }

  #addToSession(key: K, time: number, fold: (value: V) => V, streamTime: number): Added<K, V> {
    const gap = this.windows.kind === 'session' ? this.windows.gap : 0
    const k = this.#keyId(key)
    const existing = this.#sessions.get(k) ?? []
    const { session, absorbed } = mergeSessions(existing, time, gap)
    if (closesAt(this.windows, session) <= streamTime) return { late: true, windows: [session] }
    this.#streamTime = streamTime
    const merge = this.#options.merge!
    let value: V | undefined
    for (const old of absorbed) {
      const windowed = { key, window: old }
      const held = this.#store.get(windowed)
      if (held !== undefined) value = value === undefined ? held : merge(value, held)
      this.#store.delete(windowed)
      this.#open.remove(closesAt(this.windows, old), this.#id(key, old))
    }
    value = fold(value ?? this.#options.initial())
    const rest = existing.filter((s) => !absorbed.includes(s))
    rest.push(session)
    this.#sessions.set(k, rest)
    this.#store.set({ key, window: session }, value)
    this.#open.add(closesAt(this.windows, session), this.#id(key, session), { key, window: session })
    return { late: false, updated: [{ key, window: session, value }] }
  }

  /**
   * Moves stream time to `streamTime` (if later) and closes every window it passed, oldest first:
   * their final values, once each. Windows past their retention leave the store.
   */
  advance(streamTime: number): Array<ClosedWindow<K, V>> {
    if (streamTime > this.#streamTime) this.#streamTime = streamTime
    return this.#close(this.#open.take(this.#streamTime))
  }

  /**
   * Closes every open window now, whatever the stream time (an idle timeout: input stopped). Stream
   * time moves to the last of their closing times, so a record for one of them later is late: a
   * closed window is never emitted twice.
   */
  closeAll(): Array<ClosedWindow<K, V>> {
    const due = this.#open.takeAll()
    for (const { window } of due)
      this.#streamTime = Math.max(this.#streamTime, closesAt(this.windows, window))
    return this.#close(due)
  }

  #close(due: Array<Open<K>>): Array<ClosedWindow<K, V>> {
    const closed: Array<ClosedWindow<K, V>> = []
    for (const { key, window } of due) {
      const windowed = { key, window }
      const value = this.#store.get(windowed)
      if (value === undefined) continue
      closed.push({ key, window, value })
      if (this.windows.kind === 'session') {
        const k = this.#keyId(key)
        const left = (this.#sessions.get(k) ?? []).filter(
          (s) => s.start !== window.start || s.end !== window.end,
        )
        if (left.length > 0) this.#sessions.set(k, left)
        else this.#sessions.delete(k)
      }
      this.#kept.add(this.#leavesAt(window), this.#id(key, window), { key, window })
    }
    for (const { key, window } of this.#kept.take(this.#streamTime)) this.#store.delete({ key, window })
    return closed
  }

  /** The value of `key` in `window`, open or kept. */
  get(key: K, window: TimeWindow): V | undefined {
    return this.#store.get({ key, window })
  }

  /** The windows of `key` the store holds that overlap `[from, to]`, oldest first (open or kept). */
  range(key: K, from: number, to: number): Array<ClosedWindow<K, V>> {
    const found: Array<ClosedWindow<K, V>> = []
    if (this.windows.kind === 'session') {
      const k = this.#keyId(key)
      for (const [windowed, value] of this.#store.entries())
        if (this.#keyId(windowed.key) === k && windowed.window.end >= from && windowed.window.start <= to)
          found.push({ key, window: windowed.window, value })
    } else if (this.windows.kind !== 'sliding') {
      const windows = this.windows
      const advance = windows.kind === 'tumbling' ? windows.size : windows.advance
      const first = windowsFor(windows, Math.max(0, from))[0]
      for (let start = first?.start ?? 0; start <= to; start += advance) {
        const window = { start, end: start + windows.size }
        const value = this.#store.get({ key, window })
        if (value !== undefined) found.push({ key, window, value })
      }
    }
    return found.sort((a, b) => a.window.start - b.window.start || a.window.end - b.window.end)
  }
}
