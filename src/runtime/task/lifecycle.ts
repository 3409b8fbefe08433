/**
 * A task's lifecycle (Kafka Streams' Task.State):
 *
 *   CREATED -> RESTORING -> RUNNING -> SUSPENDED -> CLOSED (clean)
 *      |           |            |
 *      +-----------+------------+-------------> CLOSED (dirty: lost, failed or corrupted)
 *
 * A revoked task is suspended (drained, committed) and then closed; under the cooperative protocol
 * a task is never handed back while suspended, so there is no way back to RUNNING.
 *
 * RESTORING brings the task's stores up to date from their changelogs before a record is processed;
 * SUSPENDED has drained its records and committed, its stores still open; CLOSED clean has flushed
 * and checkpointed, CLOSED dirty has not (its state is rebuilt from the changelog next time).
 */
import { TributaryError } from '../../errors.js'

export type TaskState = 'created' | 'restoring' | 'running' | 'suspended' | 'closed'

const NEXT: Record<TaskState, readonly TaskState[]> = {
  created: ['restoring', 'closed'],
  restoring: ['running', 'suspended', 'closed'],
  running: ['suspended', 'closed'],
  suspended: ['closed'],
  closed: [],
}

/** Throws on a transition the lifecycle does not have (a runtime bug, named with the task). */
export function checkTransition(taskId: string, from: TaskState, to: TaskState): void {
  if (!NEXT[from].includes(to))
    throw new TributaryError('INVALID_ARGUMENT', `task ${taskId} cannot go from ${from} to ${to}`)
}
