/** The test driver's options: one defaults object, validated once at start (STYLE.md). */
import { TributaryError } from '../errors.js'

export type { LogLevel } from '../runtime/log.js'
import type { LogLevel } from '../runtime/log.js'

export interface TestDriverOptions {
  /**
   * Where the driver's clock starts (ms since the epoch). Records piped without a timestamp get the
   * clock's time, so a fixed start makes every timestamp in a test reproducible.
   * @default Date.now() when the driver starts
   */
  startTime?: number
  /**
   * How long `settle()` (and the reads that settle first) waits before it gives up; `close()` waits
   * as long for the app's graceful stop. @default 10000
   */
  settleTimeoutMs?: number
  /**
   * Receives the app's log lines, which the driver also keeps in `driver.logs`. The app's own `log`
   * setting, if any, still gets them.
   * @default none: lines are only kept in `driver.logs`, so expected warnings do not clutter test output
   */
  log?: (level: LogLevel, message: string) => void
}

export interface ResolvedTestDriverOptions {
  startTime: number
  settleTimeoutMs: number
  log: ((level: LogLevel, message: string) => void) | undefined
}

export function resolveOptions(options: TestDriverOptions = {}): ResolvedTestDriverOptions {
  const startTime = options.startTime ?? Date.now()
  if (!Number.isSafeInteger(startTime) || startTime < 0) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `TestDriver startTime must be ms since the epoch (a whole number >= 0), got ${startTime}`,
    )
  }
  const settleTimeoutMs = options.settleTimeoutMs ?? 10_000
  if (!Number.isFinite(settleTimeoutMs) || settleTimeoutMs <= 0) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `TestDriver settleTimeoutMs must be a positive number of ms, got ${settleTimeoutMs}`,
    )
  }
  return { startTime, settleTimeoutMs, log: options.log }
}
