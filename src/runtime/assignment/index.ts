/** The task assignor: tasks from sub-topologies, their placement, and the user data it exchanges. */

// The assignor the consumer group runs on its leader
export { TASK_ASSIGNOR_PROTOCOL, TaskAssignor, type TaskAssignorOptions } from './task-assignor.js'

// What a member reads from its share of a generation, and what it advertises
export {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  USER_DATA_VERSION,
} from './user-data.js'
export type { AssignmentInfo } from './user-data.js'

// Checks the runtime can run at start
export { copartitionWarnings, validateCopartitioning, validateSubtopologies } from './validate.js'

// Tasks and their placement (pure)
export { buildTasks, buildUnits } from './tasks.js'
export { previousOwners, type TaskClaim } from './owners.js'
export { place } from './place.js'
export { placeStandbys, type StandbyCandidate } from './standbys.js'
export { compareTaskIds, isTaskId, parseTaskId, taskId } from './task-ids.js'
export type * from './types.js'
