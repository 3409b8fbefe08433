/** Task ids: `<subtopology>_<partition>`, both non-negative integers written in decimal. */
import { TributaryError } from '../../errors.js'
import type { TaskId } from './types.js'

const PATTERN = /^(0|[1-9]\d*)_(0|[1-9]\d*)$/

/** The id of partition `partition` of sub-topology `subtopology`. */
export function taskId(subtopology: number, partition: number): TaskId {
  return `${subtopology}_${partition}`
}

/** True when `value` is a well-formed task id (no sign, no leading zeros, no spaces). */
export function isTaskId(value: unknown): value is TaskId {
  return typeof value === 'string' && PATTERN.test(value)
}

/** The sub-topology and partition of a task id; throws INVALID_ARGUMENT on a malformed one. */
export function parseTaskId(id: string): { subtopology: number; partition: number } {
  const match = PATTERN.exec(id)
  if (!match)
    throw new TributaryError('INVALID_ARGUMENT', `"${id}" is not a task id (<subtopology>_<partition>)`)
  return { subtopology: Number(match[1]), partition: Number(match[2]) }
}

/**
 * Orders task ids by sub-topology, then partition, as numbers (`0_2` before `0_10`), so lists and
 * logs read naturally and every placement decision is taken in one fixed order. Both must be
 * well-formed (isTaskId).
 */
export function compareTaskIds(a: TaskId, b: TaskId): number {
  // Sorting is on the assignor's hot path: split at the underscore instead of matching the pattern.
  const i = a.indexOf('_')
  const j = b.indexOf('_')
  return Number(a.slice(0, i)) - Number(b.slice(0, j)) || Number(a.slice(i + 1)) - Number(b.slice(j + 1))
}
