/**
 * The records a processor of a task has yet to take, in fetch order, and the waits for the next
 * one. A wait with a limit runs on the app's clock, so `take(n, withinMs)` and friends follow the
 * test driver's time; a waiter that times out is withdrawn, so a later record wakes a lane that is
 * really waiting.
 */
import Denque from 'denque'
import type { Clock } from '../clock.js'
import type { TrackedEntry } from './tracker.js'

export class EntryQueue {
  /** A ring: a record costs no array growth or compaction here. */
  #entries = new Denque<TrackedEntry>()
  #waiters: Array<() => void> = []
  /** Waits with a limit now pending on the clock: the processor is parked on time, not on work. */
  #timed = 0
  /** While held (a commit draws its line, task.ts quiesce), take() gives nothing and takers wait. */
  #held = false
  closing = false

  constructor(private readonly clock: Clock) {}

  get length(): number {
    return this.#entries.length
  }

  /** True while a taker waits for a record with a time limit (a batch being filled). */
  get waitingOnClock(): boolean {
    return this.#timed > 0
  }

  push(entry: TrackedEntry): void {
    this.#entries.push(entry)
    this.#waiters.shift()?.()
  }

  take(): TrackedEntry | undefined {
    return this.#held ? undefined : this.#entries.shift()
  }

  /** True when a taker that got nothing should end: closing, and nothing left to take. */
  get finished(): boolean {
    return this.closing && this.#entries.length === 0
  }

  hold(): void {
    this.#held = true
  }

  release(): void {
    if (!this.#held) return
    this.#held = false
    this.wakeAll()
  }

  /** Takes everything still queued (a task closed dirty, or failed). */
  drain(): TrackedEntry[] {
    const rest = this.#entries.toArray()
    this.#entries = new Denque<TrackedEntry>()
    return rest
  }

  /** Resolves true when a record was pushed or the queue is closing, false after `ms` on the clock. */
  wait(ms?: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let handle: unknown
      const wake = (): void => {
        if (handle !== undefined) {
          this.clock.clearTimeout(handle)
          this.#timed--
        }
        resolve(true)
      }
      if (ms !== undefined) {
        this.#timed++
        handle = this.clock.setTimeout(() => {
          this.#timed--
          const i = this.#waiters.indexOf(wake)
          if (i >= 0) this.#waiters.splice(i, 1)
          resolve(false)
        }, ms)
      }
      this.#waiters.push(wake)
    })
  }

  /** Wakes every waiter (closing, a punctuation due). */
  wakeAll(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }
}
