/**
 * Time as the runtime's timers see it: the system clock in production, a manual clock in tests (and
 * in the test driver), so that "every 30 s" or "at 09:00" can be checked without waiting.
 */
import { TributaryError } from '../errors.js'

/** Wall-clock time plus one-shot timers. Handles are opaque: only the clock that made one can clear it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/**
 * The real clock: Date.now and Node's timers. Its timers do not keep the process alive: a running
 * worker does, by a handle of its own (WorkerConfig.keepAlive).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

/** A pause of the runtime's own loops (backoffs, waits for room) that does not keep the process alive. */
export function backgroundSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}

interface Pending {
  id: number
  due: number
  callback: () => void
}

/** Lets promise chains started by a callback run on before time moves again (one macrotask turn). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * A clock that moves only when told to. `advance` fires due timers one at a time in due order
 * (ties in the order they were set), with `now()` equal to each timer's due time while it runs, and
 * lets the microtasks it started settle before the next one: a callback that re-arms itself inside
 * the advanced span fires again within the same call, as it would have in real time.
 */
export class ManualClock implements Clock {
  #now: number
  #nextId = 1
  readonly #pending = new Map<number, Pending>()

  /** @param start the initial time in ms since the epoch. @default 0 */
  constructor(start = 0) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#nextId++
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0
    this.#pending.set(id, { id, due: this.#now + delay, callback })
    return id
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.#pending.delete(handle)
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.#pending.size
  }

  /** When the earliest pending timer is due, if any. */
  nextDue(): number | undefined {
    return this.#earliest()?.due
  }

  /** Moves time forward by `ms`, firing every timer due up to the new time (see the class comment). */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0)
      throw new TributaryError('INVALID_ARGUMENT', `ManualClock.advance needs ms >= 0, got ${ms}`)
    await this.advanceTo(this.#now + ms)
  }

  /** Moves time forward to `time` (ms since the epoch); a time in the past is an error. */
  async advanceTo(time: number): Promise<void> {
    if (!(time >= this.#now))
      throw new TributaryError('INVALID_ARGUMENT', `ManualClock cannot go back from ${this.#now} to ${time}`)
    await settle()
    for (let next = this.#earliest(); next && next.due <= time; next = this.#earliest()) {
      this.#pending.delete(next.id)
      this.#now = next.due
      next.callback()
      await settle()
    }
    this.#now = time
    await settle()
  }

  #earliest(): Pending | undefined {
    let best: Pending | undefined
    for (const timer of this.#pending.values()) {
      if (!best || timer.due < best.due || (timer.due === best.due && timer.id < best.id)) best = timer
    }
    return best
  }
}
