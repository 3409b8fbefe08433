/**
 * A worker's timers: fixed intervals and cron schedules, optionally on the leader only (one worker of
 * the app runs them, see leader.ts). Runs of one timer never overlap; a failing callback is counted
 * and reported, and never takes the worker down. Time comes from a Clock, so tests move it by hand.
 */
import { TributaryError } from '../../errors.js'
import { systemClock, type Clock } from '../clock.js'
import { cronSchedule, intervalSchedule, type Schedule } from './schedule.js'
import { ScheduledTimer, type TimerCallback, type TimerStats } from './scheduled-timer.js'

export type { TimerCallback, TimerContext, TimerStats } from './scheduled-timer.js'

/** What onLeader timers ask; LeaderElector is one. */
export interface LeadershipSource {
  isLeader(): boolean
  /** When given, running onLeader callbacks are aborted (their signal) as soon as leadership is lost. */
  onChange?(listener: (change: { leader: boolean }) => void): () => void
}

export interface TimersOptions {
  /** @default systemClock */
  clock?: Clock
  /** Needed by onLeader timers: they run only while it says this worker is the leader. */
  leader?: LeadershipSource
  /** Told about every failed run. @default writes to console.error */
  onError?: (error: unknown, timer: string) => void
}

export interface TimerOptions {
  /** Unique among these timers; in stats and error reports. @default 'timer-<n>' or 'cron-<n>' */
  name?: string
  /** Run only while this worker is the app's leader. @default false */
  onLeader?: boolean
}

export interface CronOptions extends TimerOptions {
  /** IANA time zone the expression is read in, e.g. 'Europe/Paris'. @default the process's local zone */
  timezone?: string
}

export interface TimerHandle {
  readonly name: string
  /** Stops this timer, drops it from stats (its name is free again) and waits for its running callback. */
  cancel(): Promise<void>
}

function defaultReport(error: unknown, timer: string): void {
  console.error(`[tributary] timer ${timer} failed:`, error)
}

export class Timers {
  readonly #clock: Clock
  readonly #leader: LeadershipSource | undefined
  readonly #report: (error: unknown, timer: string) => void
  readonly #timers = new Map<string, ScheduledTimer>()
  readonly #unsubscribe: (() => void) | undefined
  #count = 0
  #stopped = false

  constructor(options: TimersOptions = {}) {
    this.#clock = options.clock ?? systemClock
    this.#leader = options.leader
    const onError = options.onError ?? defaultReport
    this.#report = (error, timer) => {
      try {
        onError(error, timer)
      } catch {
        // A failing error handler must not turn one failed run into a crashed worker.
      }
    }
    this.#unsubscribe = this.#leader?.onChange?.(({ leader }) => {
      if (!leader) for (const timer of this.#timers.values()) timer.leadershipLost()
    })
  }

  /** Runs `fn` every `intervalMs`, the first time one interval from now. */
  timer(intervalMs: number, fn: TimerCallback, options: TimerOptions = {}): TimerHandle {
    return this.#add('timer', intervalSchedule(intervalMs, this.#clock.now()), fn, options)
  }

  /** Runs `fn` at the times of a cron expression ('*\/5 * * * *', '0 9 * * MON-FRI', '@hourly'). */
  cron(expression: string, fn: TimerCallback, options: CronOptions = {}): TimerHandle {
    return this.#add('cron', cronSchedule(expression, options.timezone), fn, options)
  }

  stats(): TimerStats[] {
    return [...this.#timers.values()].map((timer) => timer.stats())
  }

  /** Cancels every timer and waits for the running callbacks (whose signals are aborted). */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#unsubscribe?.()
    await Promise.all([...this.#timers.values()].map((timer) => timer.cancel()))
  }

  #add(kind: string, schedule: Schedule, fn: TimerCallback, options: TimerOptions): TimerHandle {
    if (this.#stopped) throw new TributaryError('CLOSED', 'Cannot add a timer: the timers were stopped')
    if (typeof fn !== 'function')
      throw new TributaryError('INVALID_ARGUMENT', 'A timer needs a callback function')
    const name = options.name ?? `${kind}-${++this.#count}`
    if (this.#timers.has(name))
      throw new TributaryError('INVALID_ARGUMENT', `A timer named "${name}" already exists`)
    const onLeader = options.onLeader ?? false
    if (onLeader && !this.#leader) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Timer "${name}" runs on the leader only: give Timers a leader`,
      )
    }
    const env = {
      clock: this.#clock,
      isLeader: () => this.#leader?.isLeader() ?? false,
      report: this.#report,
    }
    const timer = new ScheduledTimer(name, schedule, fn, onLeader, env)
    this.#timers.set(name, timer)
    const cancel = async (): Promise<void> => {
      if (this.#timers.get(name) === timer) this.#timers.delete(name)
      await timer.cancel()
    }
    return { name, cancel }
  }
}
