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
  #reported = false

  constructor(signal: Signal) {
    this.#signal = signal
  }

  /** A transient failure of `source`: its outage starts, or goes on with this as the latest error. */
  note(source: string, error: TributaryError): void {
    const since = this.#failing.get(source)?.since ?? Date.now()
    this.#failing.set(source, { since, error })
    // A poll waiting for records hears of the outage as soon as it is due.
    if (!this.#reported && Date.now() - this.#oldest() >= UNREACHABLE_AFTER_MS) this.#signal.notify()
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
    if (Date.now() - since < UNREACHABLE_AFTER_MS) return undefined
    this.#reported = true
    const latest = [...this.#failing.values()].sort((a, b) => b.since - a.since)[0]!.error
    const seconds = Math.round((Date.now() - since) / 1000)
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
