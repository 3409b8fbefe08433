/**
 * Which failures are transient (worth retrying: the cluster is restarting, a leader or coordinator
 * is moving, a request timed out) and the retry loop of sends. Fatal ones (authentication,
 * authorization, unknown topic, fencing, a bad request) are never retried here.
 */
import { TributaryError } from '../../errors.js'
import type { Link } from './link.js'

/** Codes that are an answer, not a passing state, whatever the broker's retriable flag says. */
const FATAL = new Set([
  'AUTHENTICATION_FAILED',
  'UNKNOWN_TOPIC',
  'INVALID_PARTITIONS',
  'INVALID_ARGUMENT',
  'INVALID_CONFIG',
  'NOT_SUPPORTED',
  'FENCED',
  'REBALANCE',
  'TRANSACTION',
  'CLOSED',
])

export function isTransient(error: unknown): boolean {
  if (!(error instanceof TributaryError)) return false
  if (FATAL.has(error.code)) return false
  return error.code === 'BROKER_UNREACHABLE' || error.code === 'TIMEOUT' || error.canRetry
}

/** 100 ms doubling to 1 s: quick after a blip, gentle on a cluster that is coming back. */
export function backoff(attempt: number): number {
  return Math.min(100 * 2 ** attempt, 1_000)
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs `attempt` again after transient failures until `deadline` (ms since the epoch), then throws
 * the last failure (canRetry: true). Only once the cluster has answered this client: before that,
 * a wrong address or a cluster that is down is reported within the link's first-contact bound.
 */
export async function retryTransient<T>(
  link: Link,
  deadline: number,
  attempt: (n: number) => Promise<T>,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n)
    } catch (error) {
      if (!link.answered || !isTransient(error) || Date.now() + backoff(n) >= deadline) throw error
      await sleep(backoff(n))
    }
  }
}
