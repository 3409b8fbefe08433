/** The LeaderElector's options, resolved and checked once at construction. */
import { TributaryError } from '../../errors.js'
import type { Transport } from '../../transport/types.js'

export interface LeaderElectorOptions {
  transport: Transport
  /** The app's id: names the topic `<appId>-__leader` and the group `<appId>-leader`. */
  appId: string
  /**
   * How long the group waits for a silent member before handing its partition over: the longest a
   * dead leader goes unreplaced. @default 10000
   */
  sessionTimeoutMs?: number
  /**
   * Heartbeat and lease renewal period; the lease is sessionTimeoutMs minus this.
   * At most half the session timeout. @default sessionTimeoutMs / 3
   */
  heartbeatIntervalMs?: number
  /** This worker's id in the group (its client id) and in its claims. @default host-pid-random */
  workerId?: string
  /** Replication factor of the leader topic when this worker creates it. @default 1 */
  replicationFactor?: number
  /** How long one poll of the background loop waits; it bounds how soon a new leader claims. @default 100 */
  pollTimeoutMs?: number
  /** Told about errors of the background loop (it retries them). @default writes to console.error */
  onError?: (error: unknown) => void
}

export type ResolvedLeaderOptions = Required<LeaderElectorOptions>

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new TributaryError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${value}`)
  return value
}

export function resolveLeaderOptions(
  options: LeaderElectorOptions,
  defaultWorkerId: () => string,
): ResolvedLeaderOptions {
  const { transport, appId } = options
  if (!transport) throw new TributaryError('INVALID_ARGUMENT', 'LeaderElector needs a transport')
  if (typeof appId !== 'string' || !/^[a-zA-Z0-9._-]+$/.test(appId)) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `appId must be a non-empty string of letters, digits, '.', '_' and '-', got ${String(appId)}`,
    )
  }
  const sessionTimeoutMs = positiveInteger('sessionTimeoutMs', options.sessionTimeoutMs ?? 10_000)
  const heartbeatIntervalMs = positiveInteger(
    'heartbeatIntervalMs',
    options.heartbeatIntervalMs ?? Math.max(1, Math.floor(sessionTimeoutMs / 3)),
  )
  if (heartbeatIntervalMs * 2 > sessionTimeoutMs) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `heartbeatIntervalMs (${heartbeatIntervalMs}) must be at most half of sessionTimeoutMs (${sessionTimeoutMs})`,
    )
  }
  return {
    transport,
    appId,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    workerId: options.workerId ?? defaultWorkerId(),
    replicationFactor: positiveInteger('replicationFactor', options.replicationFactor ?? 1),
    pollTimeoutMs: positiveInteger('pollTimeoutMs', options.pollTimeoutMs ?? 100),
    onError: options.onError ?? ((error: unknown) => console.error('[tributary] leader election:', error)),
  }
}
