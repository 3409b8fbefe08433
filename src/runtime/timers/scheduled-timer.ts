/**
 * One timer: arms the clock for the schedule's next run, never overlaps itself, gates on leadership,
 * and turns a callback's failure into a count and a report rather than a crashed worker.
 */
import { TributaryError } from '../../errors.js'
import type { Clock } from '../clock.js'
import type { Schedule } from './schedule.js'

export interface TimerContext {
  readonly name: string
  /** The time this run was scheduled for (ms since the epoch); it may start a little later. */
  readonly scheduledAt: number
  /** Aborted when the timer is cancelled or stopped, and for an onLeader timer when leadership is lost. */
  readonly signal: AbortSignal
}

export type TimerCallback = (context: TimerContext) => void | Promise<void>

export interface TimerStats {
  name: string
  kind: 'interval' | 'cron'
  schedule: string
  onLeader: boolean
  /** Runs started. */
  runs: number
  /** Ticks skipped because the previous run was still going. */
  skippedOverlaps: number
  /** Ticks of an onLeader timer skipped because this worker was not the leader. */
  skippedNotLeader: number
  /** Runs that threw or rejected. */
  errors: number
  running: boolean
  /** When the last run started (ms since the epoch, by the timers' clock). */
  lastRunAt: number | undefined
  lastDurationMs: number | undefined
  lastError: string | undefined
  /** When the next tick is due; undefined once the schedule has no run left or the timer was cancelled. */
  nextRunAt: number | undefined
}

export interface TimerEnvironment {
  clock: Clock
  isLeader(): boolean
  report(error: unknown, timer: string): void
}

/** The longest delay Node's setTimeout takes (2^31 - 1 ms, ~24.8 days); a later run re-arms on the way. */
const MAX_DELAY_MS = 2 ** 31 - 1

export class ScheduledTimer {
  #handle: unknown
  #nextAt: number | undefined
  #running: Promise<void> | undefined
  #controller: AbortController | undefined
  #cancelled = false
  readonly #stats: TimerStats

  constructor(
    readonly name: string,
    private readonly schedule: Schedule,
    private readonly callback: TimerCallback,
    readonly onLeader: boolean,
    private readonly env: TimerEnvironment,
  ) {
    this.#stats = {
      name,
      kind: schedule.kind,
      schedule: schedule.description,
      onLeader,
      runs: 0,
      skippedOverlaps: 0,
      skippedNotLeader: 0,
      errors: 0,
      running: false,
      lastRunAt: undefined,
      lastDurationMs: undefined,
      lastError: undefined,
      nextRunAt: undefined,
    }
    this.#arm(env.clock.now())
  }

  stats(): TimerStats {
    return { ...this.#stats, running: this.#running !== undefined, nextRunAt: this.#nextAt }
  }

  /** Leadership was lost: a running onLeader callback is told to stop (it may still finish). */
  leadershipLost(): void {
    if (this.onLeader)
      this.#controller?.abort(
        new TributaryError('FENCED', `Timer ${this.name}: this worker is no longer the leader`),
      )
  }

  /** No more ticks; a running callback is aborted and awaited. */
  async cancel(): Promise<void> {
    this.#cancelled = true
    this.#nextAt = undefined
    if (this.#handle !== undefined) this.env.clock.clearTimeout(this.#handle)
    this.#handle = undefined
    this.#controller?.abort(new TributaryError('CLOSED', `Timer ${this.name} was stopped`))
    await this.#running
  }

  #arm(after: number): void {
    this.#nextAt = this.schedule.next(after)
    if (this.#nextAt !== undefined) this.#wait(this.#nextAt)
  }

  #wait(at: number): void {
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, at - this.env.clock.now()))
    this.#handle = this.env.clock.setTimeout(() => this.#fire(at), delay)
  }

  #fire(at: number): void {
    this.#handle = undefined
    if (this.#cancelled) return
    const now = this.env.clock.now()
    if (now < at) return this.#wait(at) // a capped long delay, or a clock that fired early
    // Slots missed while the process stalled (now far past `at`) are skipped, not replayed.
    this.#arm(Math.max(at, now))
    if (this.#running) {
      this.#stats.skippedOverlaps++
    } else if (this.onLeader && !this.env.isLeader()) {
      this.#stats.skippedNotLeader++
    } else {
      this.#running = this.#run(at).finally(() => (this.#running = undefined))
    }
  }

  async #run(scheduledAt: number): Promise<void> {
    const clock = this.env.clock
    const controller = (this.#controller = new AbortController())
    const started = clock.now()
    this.#stats.runs++
    this.#stats.lastRunAt = started
    try {
      await this.callback({ name: this.name, scheduledAt, signal: controller.signal })
    } catch (error) {
      this.#stats.errors++
      this.#stats.lastError = error instanceof Error ? error.message : String(error)
      this.env.report(error, this.name)
    } finally {
      this.#stats.lastDurationMs = clock.now() - started
      this.#controller = undefined
    }
  }
}
