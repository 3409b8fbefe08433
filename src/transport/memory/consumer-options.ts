/** The memory:// consumer's options, checked once at construction, and the subscribe() assignor check. */
import { TributaryError } from '../../errors.js'
import { stickyAssignor } from '../group/sticky-assignor.js'
import type { ConsumerOptions, GroupAssignor, IsolationLevel, OffsetReset } from '../types.js'

const ISOLATION: readonly IsolationLevel[] = ['read_uncommitted', 'read_committed']
const RESETS: readonly OffsetReset[] = ['earliest', 'latest', 'none']
/** Kafka's rule for group.instance.id (JoinGroupRequest.validateGroupInstanceId). */
const INSTANCE_ID = /^[a-zA-Z0-9._-]{1,249}$/

export interface ResolvedConsumerOptions {
  groupId: string | undefined
  clientId: string
  isolationLevel: IsolationLevel
  offsetReset: OffsetReset
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  groupInstanceId: string | undefined
  maxBufferedRecordsPerPartition: number
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    throw new TributaryError('INVALID_ARGUMENT', `Invalid ${name} ${String(value)}: a positive number`)
  return value
}

export function resolveConsumerOptions(options: ConsumerOptions): ResolvedConsumerOptions {
  const { groupId, groupInstanceId, isolationLevel = 'read_uncommitted', offsetReset = 'latest' } = options
  if (groupId !== undefined && (typeof groupId !== 'string' || groupId === ''))
    throw new TributaryError('INVALID_ARGUMENT', 'groupId must be a non-empty string')
  if (!ISOLATION.includes(isolationLevel))
    throw new TributaryError('INVALID_ARGUMENT', `Invalid isolationLevel ${String(isolationLevel)}`)
  if (!RESETS.includes(offsetReset))
    throw new TributaryError('INVALID_ARGUMENT', `Invalid offsetReset ${String(offsetReset)}`)
  const sessionTimeoutMs = positiveInteger('sessionTimeoutMs (ms)', options.sessionTimeoutMs ?? 10_000)
  // Kafka's default is 3 s; a shorter session gets a third of it rather than a heartbeat that cannot keep it.
  const heartbeatIntervalMs = positiveInteger(
    'heartbeatIntervalMs (ms)',
    options.heartbeatIntervalMs ?? Math.max(1, Math.min(3_000, Math.floor(sessionTimeoutMs / 3))),
  )
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `heartbeatIntervalMs (${heartbeatIntervalMs}) must be lower than sessionTimeoutMs (${sessionTimeoutMs}), or the session expires between heartbeats`,
    )
  }
  if (groupInstanceId !== undefined) {
    if (typeof groupInstanceId !== 'string' || !INSTANCE_ID.test(groupInstanceId))
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Invalid groupInstanceId ${JSON.stringify(groupInstanceId)}: use 1 to 249 of [a-zA-Z0-9._-]`,
      )
    if (groupId === undefined)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        'groupInstanceId needs a groupId (static group membership)',
      )
  }
  return {
    groupId,
    clientId: options.clientId ?? 'tributary',
    isolationLevel,
    offsetReset,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    groupInstanceId,
    maxBufferedRecordsPerPartition: positiveInteger(
      'maxBufferedRecordsPerPartition',
      options.maxBufferedRecordsPerPartition ?? 2_000,
    ),
  }
}

/** The assignor given to subscribe(), checked before it may run inside a group. */
export function checkAssignor(assignor: GroupAssignor | undefined): GroupAssignor {
  if (assignor === undefined) return stickyAssignor
  const a = assignor as Partial<GroupAssignor> | null
  if (typeof a !== 'object' || a === null || typeof a.name !== 'string' || a.name === '')
    throw new TributaryError('INVALID_ARGUMENT', 'subscribe(): the assignor needs a non-empty name')
  if (typeof a.assign !== 'function')
    throw new TributaryError('INVALID_ARGUMENT', `subscribe(): assignor ${a.name} needs an assign() function`)
  if (a.userData !== undefined && typeof a.userData !== 'function')
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `subscribe(): assignor ${a.name} has a userData that is not a function`,
    )
  return assignor
}
