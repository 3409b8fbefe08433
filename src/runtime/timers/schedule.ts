/**
 * When a timer fires: a fixed interval on a grid anchored at its creation, or a cron expression
 * (croner, with an optional IANA time zone). Both answer one question, "the first run after t".
 */
import { Cron } from 'croner'
import { TributaryError } from '../../errors.js'

export interface Schedule {
  readonly kind: 'interval' | 'cron'
  /** The interval in ms or the cron expression (with its time zone), for stats and messages. */
  readonly description: string
  /** The first run strictly after `after` (ms since the epoch); undefined when none is left. */
  next(after: number): number | undefined
}

/**
 * Runs at origin + k * intervalMs, k >= 1. A grid rather than "interval after the last run": runs do
 * not drift by the callbacks' duration, and slots missed while the process was stalled are skipped,
 * not replayed in a burst.
 */
export function intervalSchedule(intervalMs: number, origin: number): Schedule {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `A timer interval must be a positive number of ms, got ${intervalMs}`,
    )
  }
  return {
    kind: 'interval',
    description: `every ${intervalMs} ms`,
    next: (after) => origin + (Math.floor((after - origin) / intervalMs) + 1) * intervalMs,
  }
}

/**
 * Standard 5-field cron (minute resolution), or 6/7 fields with seconds and years, with croner's
 * syntax (L, W, #, nicknames such as @hourly). Times are read in `timezone`, else in the process's
 * local zone; across a DST change croner runs a fixed-time job once.
 */
export function cronSchedule(expression: string, timezone?: string): Schedule {
  let cron: Cron
  try {
    // Never started (no callback): we only ask it for run times, so our clock stays in charge.
    cron = new Cron(expression, { paused: true, ...(timezone === undefined ? {} : { timezone }) })
    // An unknown time zone only shows when a time is computed.
    cron.nextRun(new Date(0))
  } catch (cause) {
    const zone = timezone === undefined ? '' : ` in time zone "${timezone}"`
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `Invalid cron expression "${expression}"${zone}: ${(cause as Error).message}`,
      { cause },
    )
  }
  return {
    kind: 'cron',
    description: timezone === undefined ? expression : `${expression} (${timezone})`,
    next: (after) => cron.nextRun(new Date(after))?.getTime(),
  }
}
