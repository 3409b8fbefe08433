/** Helpers shared by the runtime tests. */
import type { LeaderElector } from '../../src/runtime/leader/leader.js'

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `check()` holds; fails after `timeoutMs` naming what it waited for. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<number> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
  return Date.now() - started
}

/** The electors that believe they lead, right now. */
export const leadersOf = (electors: readonly LeaderElector[]): LeaderElector[] =>
  electors.filter((elector) => elector.isLeader())

/**
 * Samples the electors every few ms and records the longest stretch with more than one leader. Not a
 * proof (a sample can miss a shorter overlap), but it catches any overlap that lasts.
 */
export function watchOverlap(electors: readonly LeaderElector[]): { stop(): number } {
  let longest = 0
  let since: number | undefined
  const timer = setInterval(() => {
    const now = Date.now()
    if (leadersOf(electors).length > 1) {
      since ??= now
      longest = Math.max(longest, now - since + 1)
    } else {
      since = undefined
    }
  }, 2)
  return {
    stop() {
      clearInterval(timer)
      return longest
    },
  }
}

export const uniqueId = (prefix: string): string =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
