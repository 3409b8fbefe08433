/**
 * The task assignor: run by the group's leader member through the transport's GroupAssignor, it
 * turns the members' subscriptions into tasks per member (sticky, balanced, co-located; place.ts)
 * and tells every member its tasks and the group's host map. The transport then withholds, for one
 * generation, the partitions that move from a live owner (cooperative hand-over, KIP-429).
 */
import type {
  GroupAssignor,
  MemberAssignment,
  MemberSubscription,
  TopicPartition,
} from '../../transport/types.js'
import { previousOwners } from './owners.js'
import { place } from './place.js'
import { placeStandbys } from './standbys.js'
import { buildTasks, buildUnits } from './tasks.js'
import type { PlacementMember, SubscriptionInfo, Subtopology, TaskId } from './types.js'
import { assignmentEncoder, decodeSubscription, encodeSubscription } from './user-data.js'
import { copartitionWarnings, validateSubtopologies } from './validate.js'

/** The protocol name of this assignor in JoinGroup; a change that old members cannot read takes a new one. */
export const TASK_ASSIGNOR_PROTOCOL = 'tributary-tasks-v1'

export interface TaskAssignorOptions {
  /** The app's sub-topologies, asked at every assignment (the leader's view is the one used). */
  subtopologies: () => readonly Subtopology[]
  /**
   * What this member advertises when it joins. `ownedTasks` should be every task of its latest
   * assignment, pending ones included, so the follow-up rebalance of a hand-over keeps the plan.
   */
  self: () => SubscriptionInfo
  /** Standby copies of each task with stores, on other members (standbys.ts). @default 0 */
  standbyReplicas?: number
  /** Told about co-partitioning faults and tasks no member can run, at each assignment. @default console.error */
  onWarning?: (message: string) => void
}

/** Tributary's GroupAssignor: places tasks, not topic-partitions, so co-partitioned topics move together. */
export class TaskAssignor implements GroupAssignor {
  readonly name = TASK_ASSIGNOR_PROTOCOL
  readonly #options: Required<TaskAssignorOptions>
  #warnings: readonly string[] = []

  constructor(options: TaskAssignorOptions) {
    this.#options = {
      standbyReplicas: 0,
      ...options,
      onWarning: options.onWarning ?? ((message) => console.error(`[tributary] task assignor: ${message}`)),
    }
  }

  /** The warnings of the latest assignment this member ran as leader. */
  get warnings(): readonly string[] {
    return this.#warnings
  }

  /** This member's subscription user data. */
  userData(): Buffer {
    return encodeSubscription(this.#options.self())
  }

  /**
   * Every member's tasks as partitions, with its assignment user data. Throws INVALID_ARGUMENT for
   * malformed sub-topologies or a member's user data that is not ours (naming the member).
   */
  assign(
    members: readonly MemberSubscription[],
    partitionCounts: ReadonlyMap<string, number>,
  ): Map<string, MemberAssignment> {
    const subtopologies = this.#options.subtopologies()
    validateSubtopologies(subtopologies)
    const warnings = copartitionWarnings(subtopologies, partitionCounts)
    const tasks = new Map(buildTasks(subtopologies, partitionCounts).map((task) => [task.id, task]))
    const units = buildUnits([...tasks.values()], subtopologies)
    // A member without user data (none sent) joins with no history; bytes that are not ours throw.
    const infos = new Map(
      members.map((m): [string, SubscriptionInfo | undefined] => [
        m.memberId,
        m.userData === null
          ? undefined
          : decodeSubscription(m.userData, `subscription of member ${m.memberId}`),
      ]),
    )
    const owned = new Map(members.map((m) => [m.memberId, new Set<TaskId>()]))
    const claims = members.map((m) => ({ ...m, ownedTasks: infos.get(m.memberId)?.ownedTasks ?? [] }))
    for (const [task, owner] of previousOwners(claims)) owned.get(owner)!.add(task)
    const placing = members.map((m): PlacementMember => ({
      memberId: m.memberId,
      topics: new Set(m.topics),
      owned: owned.get(m.memberId)!,
      taskOffsets: infos.get(m.memberId)?.taskOffsets ?? {},
    }))
    const plan = place(placing, units)
    const stateful = new Set(subtopologies.filter((s) => (s.stores?.length ?? 0) > 0).map((s) => s.id))
    const standbys = placeStandbys(
      placing,
      [...tasks.values()]
        .filter((task) => stateful.has(task.subtopology))
        .map((task) => ({ id: task.id, topics: task.partitions.map((tp) => tp.topic) })),
      plan,
      this.#options.standbyReplicas,
    )
    const shares = new Map([...plan].map(([memberId, ids]) => [memberId, ids.map((id) => tasks.get(id)!)]))
    const placed = new Set([...plan.values()].flat())
    const unplaced = [...tasks.keys()].filter((id) => !placed.has(id))
    if (unplaced.length > 0)
      warnings.push(
        `no member subscribes to all source topics of tasks ${unplaced.join(', ')}; they stay unassigned`,
      )
    const partitionsOf = (memberId: string): TopicPartition[] =>
      shares.get(memberId)!.flatMap((task) => task.partitions)
    // Two members advertising one URL (a misconfiguration) share its entry rather than hide each other.
    const hosts = new Map<string, TopicPartition[]>()
    for (const memberId of plan.keys()) {
      const url = infos.get(memberId)?.url
      if (url) hosts.set(url, [...(hosts.get(url) ?? []), ...partitionsOf(memberId)])
    }
    const workers = [...new Set([...infos.values()].flatMap((info) => (info ? [info.workerId] : [])))].sort()
    this.#warnings = warnings
    for (const warning of warnings) this.#options.onWarning(warning)
    const encode = assignmentEncoder(hosts, workers)
    return new Map(
      [...shares].map(([memberId, share]): [string, MemberAssignment] => [
        memberId,
        {
          partitions: partitionsOf(memberId),
          userData: encode(new Map(share.map((task) => [task.id, task.partitions])), standbys.get(memberId)),
        },
      ]),
    )
  }
}
