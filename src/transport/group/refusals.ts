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
