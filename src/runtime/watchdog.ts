/**
 * The processing watchdog (Kafka's max.poll.interval.ms, made per record): heartbeats keep a member
 * in its group while its process lives, so a processor stuck on one record would keep its
 * partitions forever. The watchdog reports a record held for half the limit, and past the limit has
 * the worker leave the group, so the partitions move to members that make progress.
 */
import type { Clock } from './clock.js'
import type { LogLevel } from './log.js'
import type { StreamTask } from './task/task.js'

export interface WatchdogHost {
  tasks(): StreamTask[]
  log(level: LogLevel, message: string): void
  /** Leave the group (and join again), saying why. */
  leave(why: string): Promise<void>
}

export class Watchdog {
  readonly #clock: Clock
  readonly #limitMs: number
  readonly #host: WatchdogHost
  readonly #reported = new Set<string>()
  #handle: unknown
  #stopped = false

  constructor(clock: Clock, limitMs: number, host: WatchdogHost) {
    this.#clock = clock
    this.#limitMs = limitMs
    this.#host = host
    this.#arm()
  }

  #arm(): void {
    if (this.#stopped) return
    const every = Math.max(100, Math.min(this.#limitMs / 10, 10_000))
    this.#handle = this.#clock.setTimeout(() => {
      void this.check().finally(() => this.#arm())
    }, every)
    ;(this.#handle as { unref?: () => void } | undefined)?.unref?.()
  }

  /** Looks at every processor once: reports the slow, leaves the group for the stuck. */
  async check(): Promise<void> {
    const now = this.#clock.now()
    const seen = new Set<string>()
    let stuck: string | undefined
    for (const task of this.#host.tasks()) {
      for (const runner of task.runners) {
        const since = runner.busySince()
        if (since === undefined) continue
        const held = now - since
        const key = `${task.id}/${runner.spec.name}/${since}`
        seen.add(key)
        const what = `${runner.where()} (task ${task.id}) has held its record for ${Math.round(held / 1000)} s`
        if (held >= this.#limitMs) stuck ??= `${what}, past processingTimeoutMs (${this.#limitMs} ms)`
        else if (held >= this.#limitMs / 2 && !this.#reported.has(key)) {
          this.#reported.add(key)
          this.#host.log('warn', `${what}; at ${this.#limitMs / 1000} s the worker leaves the group`)
        }
      }
    }
    for (const key of this.#reported) if (!seen.has(key)) this.#reported.delete(key)
    if (stuck !== undefined) await this.#host.leave(stuck)
  }

  stop(): void {
    this.#stopped = true
    this.#clock.clearTimeout(this.#handle)
  }
}
