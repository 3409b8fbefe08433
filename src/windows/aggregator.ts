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
import { closesAt, keptFor, windowsFor, type TimeWindow, type Windows } from './kinds.js'
import type { Slot, Windowed } from './keys.js'
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
  readonly #store: KeyValue<Windowed<K>, Slot<V>>
  readonly #options: AggregatorOptions<K, V>
  readonly #keyId: (key: K) => string
  /** Open windows by closing time. */
  readonly #open = new PendingWindows<Open<K>>()
  /** Closed windows kept for their retention, by the stream time at which they leave. */
  readonly #kept = new PendingWindows<Open<K>>()
  /** The open sessions of each key (session windows only). */
  readonly #sessions = new Map<string, TimeWindow[]>()
  /** The starts of each key's windows in the store, ascending (sliding windows only). */
  readonly #starts = new Map<string, number[]>()
  #streamTime: number

  constructor(
    windows: Windows,
    store: KeyValue<Windowed<K>, Slot<V>>,
    options: AggregatorOptions<K, V>,
    streamTime = -1,
  ) {
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
    if (this.windows.kind === 'sliding') insertSorted(this.#startsOf(key), window.start)
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
    return Math.max(from + keptFor(this.windows), closesAt(this.windows, window))
  }

  #startsOf(key: K): number[] {
    const k = this.#keyId(key)
    let starts = this.#starts.get(k)
    if (!starts) this.#starts.set(k, (starts = []))
    return starts
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
    if (windows.kind === 'sliding') return this.#addToSliding(key, time, fold, streamTime)
    const all = windowsFor(windows, time)
    const open = all.filter((w) => closesAt(this.windows, w) > streamTime)
    if (open.length === 0) return { late: true, windows: all }
    this.#streamTime = streamTime
    const updated: Array<ClosedWindow<K, V>> = []
    for (const window of open) {
      const windowed = { key, window }
      const current = this.#store.get(windowed)?.value
      const value = fold(current === undefined ? this.#options.initial() : current)
      this.#store.set(windowed, { value })
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
      const held = this.#store.get(windowed)?.value
      if (held !== undefined) value = value === undefined ? held : merge(value, held)
      this.#store.delete(windowed)
      this.#open.remove(closesAt(this.windows, old), this.#id(key, old))
    }
    value = fold(value ?? this.#options.initial())
    const rest = existing.filter((s) => !absorbed.includes(s))
    rest.push(session)
    this.#sessions.set(k, rest)
    this.#store.set({ key, window: session }, { value })
    this.#open.add(closesAt(this.windows, session), this.#id(key, session), { key, window: session })
    return { late: false, updated: [{ key, window: session, value }] }
  }

  /**
   * A record at `time` in sliding windows of size d (Kafka Streams' SlidingWindows): there is a
   * window for every distinct set of records that fit in d ms, so the record goes into every window
   * of its key that holds it, and makes at most three: its left window `[time - d, time]` (the
   * records of the last d ms), its right window `[time + 1, time + 1 + d]` when records after it
   * would fill one, and the right window of the record before it when the new one falls in it. A
   * new window takes its value over from the window that held the same records (each slot keeps its
   * latest record time to tell), so values need no subtraction. Records before the epoch plus d
   * share the window `[0, d]`.
   */
  #addToSliding(key: K, time: number, fold: (value: V) => V, streamTime: number): Added<K, V> {
    const size = this.windows.kind === 'sliding' ? this.windows.size : 0
    const late = { start: Math.max(0, time - size), end: time }
    if (closesAt(this.windows, { start: time, end: time + size }) <= streamTime)
      return { late: true, windows: [late] }
    this.#streamTime = streamTime
    const updated: Array<ClosedWindow<K, V>> = []
    const put = (window: TimeWindow, slot: Slot<V>, isNew: boolean): void => {
      this.#store.set({ key, window }, slot)
      if (isNew) this.#index(key, window)
      updated.push({ key, window, value: slot.value })
    }
    // The record into a window (from the slot it had, or takes over); a closed window stays as it was.
    const into = (window: TimeWindow, slot: Slot<V> | undefined, isNew = slot === undefined): void => {
      if (closesAt(this.windows, window) <= streamTime) return
      const value = fold(slot === undefined ? this.#options.initial() : slot.value)
      put(window, { value, latest: Math.max(time, slot?.latest ?? time) }, isNew)
    }
    const starts = this.#startsOf(key)
    const from = time < size ? 0 : Math.max(0, time - 2 * size)
    const seen = new Set<number>()
    let before: Slot<V> | undefined // the latest window that ends before the record
    let holds: Slot<V> | undefined // the latest window that holds it and ends after it
    let early: Slot<V> | undefined // the window [0, d] of early records
    let previous: number | undefined // the latest record before this one
    let left = false
    let right = false
    for (let i = firstAtOrAfter(starts, from); i < starts.length && starts[i]! <= time + 1; i++) {
      const window = { start: starts[i]!, end: starts[i]! + size }
      const slot = this.#store.get({ key, window })
      seen.add(window.start)
      if (slot === undefined) continue
      const latest = slot.latest ?? window.end
      if (window.start === time + 1) right = true
      else if (time < size && window.start === 0) {
        early = slot
        if (latest < time) previous = latest
      } else if (window.end < time) {
        before = slot
        previous = latest
      } else if (window.end === time) {
        left = true
        if (latest < time) previous = latest
        into(window, slot)
      } else {
        holds = slot
        into(window, slot)
      }
    }
    const rightWindow = { start: time + 1, end: time + 1 + size }
    const previousRight =
      previous === undefined ? undefined : { start: previous + 1, end: previous + 1 + size }
    if (time < size) {
      // The early window holds only records after this one when no other window holds it.
      if (holds === undefined && early !== undefined && (early.latest ?? 0) > time) holds = early
      if (!right && holds !== undefined && (holds.latest ?? 0) > time) put(rightWindow, holds, true)
      if (previousRight && !seen.has(previousRight.start)) into(previousRight, undefined)
      into({ start: 0, end: size }, early)
    } else {
      if (previousRight && !seen.has(previousRight.start) && previousRight.end >= time)
        into(previousRight, undefined)
      if (!left) {
        // The latest window that ends before the record holds just the records of its last d ms.
        const takesOver = previous !== undefined && previous >= time - size && before !== undefined
        into(
          { start: time - size, end: time },
          takesOver ? { value: before!.value, latest: time } : undefined,
          true,
        )
      }
      if (!right && holds !== undefined && (holds.latest ?? 0) > time) put(rightWindow, holds, true)
    }
    return { late: false, updated }
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
      const value = this.#store.get(windowed)?.value
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
    for (const { key, window } of this.#kept.take(this.#streamTime)) {
      this.#store.delete({ key, window })
      if (this.windows.kind === 'sliding') {
        const k = this.#keyId(key)
        const starts = this.#starts.get(k)
        const at = starts?.indexOf(window.start) ?? -1
        if (at >= 0) starts!.splice(at, 1)
        if (starts?.length === 0) this.#starts.delete(k)
      }
    }
    return closed
  }

  /** The value of `key` in `window`, open or kept. */
  get(key: K, window: TimeWindow): V | undefined {
    return this.#store.get({ key, window })?.value
  }

  /** The windows of `key` the store holds that overlap `[from, to]`, oldest first (open or kept). */
  range(key: K, from: number, to: number): Array<ClosedWindow<K, V>> {
    const found: Array<ClosedWindow<K, V>> = []
    if (this.windows.kind === 'session') {
      const k = this.#keyId(key)
      for (const [windowed, value] of this.#store.entries())
        if (this.#keyId(windowed.key) === k && windowed.window.end >= from && windowed.window.start <= to)
          found.push({ key, window: windowed.window, value: value.value })
    } else if (this.windows.kind === 'sliding') {
      const size = this.windows.size
      const starts = this.#starts.get(this.#keyId(key)) ?? []
      for (let i = firstAtOrAfter(starts, from - size); i < starts.length && starts[i]! <= to; i++) {
        const window = { start: starts[i]!, end: starts[i]! + size }
        const value = this.#store.get({ key, window })?.value
        if (value !== undefined) found.push({ key, window, value })
      }
    } else {
      const windows = this.windows
      const advance = windows.kind === 'tumbling' ? windows.size : windows.advance
      const first = windowsFor(windows, Math.max(0, from))[0]
      for (let start = first?.start ?? 0; start <= to; start += advance) {
        const window = { start, end: start + windows.size }
        const value = this.#store.get({ key, window })?.value
        if (value !== undefined) found.push({ key, window, value })
      }
    }
    return found.sort((a, b) => a.window.start - b.window.start || a.window.end - b.window.end)
  }
}

/** The index of the first number in ascending `sorted` at or after `value`. */
function firstAtOrAfter(sorted: readonly number[], value: number): number {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (sorted[mid]! < value) low = mid + 1
    else high = mid
  }
  return low
}

function insertSorted(sorted: number[], value: number): void {
  const at = firstAtOrAfter(sorted, value)
  if (sorted[at] !== value) sorted.splice(at, 0, value)
}
