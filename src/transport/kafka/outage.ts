/**
 * A consumer's view of a cluster outage. Its parts (the fetcher, the group membership) retry
 * transient failures forever and note them here, each under its own name, and clear their note
 * once the cluster answers them again. `poll` reports an outage once, when it has lasted
 * UNREACHABLE_AFTER_MS, as a TributaryError with canRetry: true (for the caller to log); the
 * next outage, after every part recovered, is reported again.
 */
import { TributaryError } from '../../errors.js'
import { UNREACHABLE_AFTER_MS } from './options.js'
import type { Signal } from './signal.js'

export class Outage {
  readonly #failing = new Map<string, { since: number; error: TributaryError }>()
  readonly #signal: Signal
  readonly #afterMs: number
  readonly #now: () => number
  #reported = false

  /** `afterMs` and `now` are for tests: how long before an outage is reported, and the clock. */
  constructor(signal: Signal, afterMs = UNREACHABLE_AFTER_MS, now: () => number = Date.now) {
    this.#signal = signal
    this.#afterMs = afterMs
    this.#now = now
  }

  /** A transient failure of `source`: its outage starts, or goes on with this as the latest error. */
  note(source: string, error: TributaryError): void {
    const since = this.#failing.get(source)?.since ?? this.#now()
    this.#failing.set(source, { since, error })
    // A poll waiting for records hears of the outage as soon as it is due.
    if (!this.#reported && this.#now() - this.#oldest() >= this.#afterMs) this.#signal.notify()
  }

  /** `source` got an answer: its part of the outage is over. */
  clear(source: string): void {
    if (!this.#failing.delete(source)) return
    if (this.#failing.size === 0) this.#reported = false
  }

  /** Once per outage, when it has lasted UNREACHABLE_AFTER_MS: what to report. */
  take(): TributaryError | undefined {
    if (this.#reported || this.#failing.size === 0) return undefined
    const since = this.#oldest()
    if (this.#now() - since < this.#afterMs) return undefined
    this.#reported = true
    // The part failing longest names the trouble best (its latest error).
    const latest = [...this.#failing.values()].sort((a, b) => a.since - b.since)[0]!.error
    const seconds = Math.round((this.#now() - since) / 1000)
    return new TributaryError(
      latest.code,
      `${latest.message}; retrying for ${seconds} s so far: the consumer goes on by itself once the cluster answers`,
      {
        cause: latest,
        broker: latest.broker,
        topic: latest.topic,
        partition: latest.partition,
        canRetry: true,
      },
    )
  }

  #oldest(): number {
    let oldest = Number.POSITIVE_INFINITY
    for (const { since } of this.#failing.values()) oldest = Math.min(oldest, since)
    return oldest
  }
}
