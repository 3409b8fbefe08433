/**
 * Punctuations of one processor on one task (Kafka Streams' PunctuationQueue): stream-time ones
 * fire when the task's stream time reaches their next boundary, wall-clock ones on the app's clock.
 * Due punctuations are queued and run by the processor between records, one at a time, so a
 * punctuation never overlaps itself or a record of the same processor. A stream-time punctuation
 * that several boundaries passed at once fires once, as in Kafka Streams.
 */
import { TributaryError } from '../../errors.js'
import type { Clock } from '../clock.js'
import type { Cancellable } from '../types.js'

export interface Punctuation {
  readonly type: 'stream' | 'wall'
  readonly intervalMs: number
  readonly fn: (timestamp: number) => void | Promise<void>
  /** The next boundary (stream) or due time (wall); undefined before the first record (stream). */
  next: number | undefined
  cancelled: boolean
  handle?: unknown
}

export interface Due {
  punctuation: Punctuation
  timestamp: number
}

export class Punctuator {
  readonly #schedules: Punctuation[] = []
  readonly #due: Due[] = []

  constructor(
    private readonly clock: Clock,
    /** Called when a punctuation became due (the processor wakes up to run it). */
    private readonly onDue: () => void,
  ) {}

  get pending(): boolean {
    return this.#due.length > 0
  }

  schedule(
    intervalMs: number,
    type: 'stream' | 'wall',
    fn: (timestamp: number) => void | Promise<void>,
    streamTime: number,
  ): Cancellable {
    if (!Number.isFinite(intervalMs) || intervalMs < 1)
      throw new TributaryError('INVALID_ARGUMENT', `schedule needs intervalMs >= 1, got ${intervalMs}`)
    if (type !== 'stream' && type !== 'wall')
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `schedule type must be 'stream' or 'wall', got ${String(type)}`,
      )
    const p: Punctuation = { type, intervalMs, fn, next: undefined, cancelled: false }
    if (type === 'wall') this.#arm(p)
    else if (streamTime >= 0) p.next = boundaryAfter(streamTime, intervalMs)
    this.#schedules.push(p)
    return {
      cancel: () => {
        p.cancelled = true
        if (p.handle !== undefined) this.clock.clearTimeout(p.handle)
      },
    }
  }

  #arm(p: Punctuation): void {
    p.next = this.clock.now() + p.intervalMs
    p.handle = this.clock.setTimeout(() => {
      if (p.cancelled) return
      this.#due.push({ punctuation: p, timestamp: this.clock.now() })
      this.#arm(p)
      this.onDue()
    }, p.intervalMs)
  }

  /** Stream time moved: stream-time punctuations whose boundary it reached become due. */
  streamTimeAdvanced(streamTime: number): void {
    let due = false
    for (const p of this.#schedules) {
      if (p.type !== 'stream' || p.cancelled) continue
      if (p.next === undefined) p.next = boundaryAfter(streamTime, p.intervalMs)
      else if (streamTime >= p.next) {
        this.#due.push({ punctuation: p, timestamp: streamTime })
        p.next = boundaryAfter(streamTime, p.intervalMs)
        due = true
      }
    }
    if (due) this.onDue()
  }

  /** The next due punctuation, if any. */
  take(): Due | undefined {
    for (;;) {
      const due = this.#due.shift()
      if (!due || !due.punctuation.cancelled) return due
    }
  }

  cancelAll(): void {
    for (const p of this.#schedules) {
      p.cancelled = true
      if (p.handle !== undefined) this.clock.clearTimeout(p.handle)
    }
    this.#due.length = 0
  }
}

/** The first multiple of `interval` after `time`. */
function boundaryAfter(time: number, interval: number): number {
  return (Math.floor(time / interval) + 1) * interval
}
