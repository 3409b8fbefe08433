/** Refusals that both transports word alike. */
import { TributaryError } from '../../errors.js'
import type { GroupDescription } from '../types.js'

/** The refusal for an operation that needs a group without live members. */
export function groupNotEmpty(group: GroupDescription, action: string): TributaryError {
  const n = group.members.length
  const hosts = [...new Set(group.members.map((m) => `${m.clientId}@${m.host}`))].join(', ')
  return new TributaryError(
    'GROUP_NOT_EMPTY',
    `Could not ${action}: group "${group.groupId}" has ${n} live member${n === 1 ? '' : 's'} (${hosts}, state ${group.state}); stop its workers first`,
  )
}

/** The refusal to forget offsets of topics that the group's live members subscribe to. */
export function subscribedTopics(
  action: string,
  topics: readonly string[],
  live: { members: number; state: string } | undefined,
  cause?: unknown,
): TributaryError {
  const names = topics.map((t) => `"${t}"`).join(', ')
  const who = live ? ` (${live.members} member(s), state ${live.state})` : ''
  return new TributaryError(
    'GROUP_NOT_EMPTY',
    `Could not ${action}: its live members subscribe to ${names}${who}; stop its workers first`,
    cause === undefined ? {} : { cause },
  )
}

/**
 * How long a read of a group's offsets waits out a transaction that holds them: past the producer's
 * default transaction timeout (60 s), after which the broker aborts a dead worker's transaction.
 */
export const UNSTABLE_OFFSETS_WAIT_MS = 65_000

/** The refusal to read a group's offsets that an open transaction has held for `waitedMs`. */
export function heldByTransaction(action: string, waitedMs: number, cause?: unknown): TributaryError {
  return new TributaryError(
    'TIMEOUT',
    `Could not ${action}: a transaction has held its offsets for ${Math.round(waitedMs / 1000)} s ` +
      '(a worker that died mid-transaction holds them until its transaction times out); try again later',
    cause === undefined ? { canRetry: true } : { canRetry: true, cause },
  )
}
