/** The shapes the task assignor works with: sub-topologies, tasks, placement units, user data. */
import type { TopicPartition } from '../../transport/types.js'

/**
 * A sub-topology as the assignor sees it: its source topics are co-partitioned (partition p of
 * each is read by the same task), so they always move together.
 */
export interface Subtopology {
  /** A small non-negative integer, unique in the app; the first half of its task ids. */
  readonly id: number
  readonly sourceTopics: readonly string[]
  /**
   * A co-location group: sub-topologies with the same group (one feeds the other through a
   * repartition topic) have their tasks of the same partition placed on the same member.
   * @default none (placed on its own)
   */
  readonly colocate?: number
  /** Its tables' stores: the tasks of a sub-topology with any get standby replicas. @default none */
  readonly stores?: readonly unknown[]
}

/** `<subtopology>_<partition>`, as in Kafka Streams (`0_3`). */
export type TaskId = string

/** One task: partition `partition` of each source topic of its sub-topology that has that partition. */
export interface Task {
  readonly id: TaskId
  readonly subtopology: number
  readonly partition: number
  readonly partitions: readonly TopicPartition[]
}

/**
 * What the placement moves as one: a task alone, or the tasks of one partition of a co-location
 * group. Its size is its number of tasks; balance is counted in tasks (see place.ts).
 */
export interface PlacementUnit {
  /** The id of its first task; units sort by it. */
  readonly id: string
  readonly tasks: readonly TaskId[]
  /** Every topic its tasks read: only a member subscribed to all of them may run the unit. */
  readonly topics: readonly string[]
}

/** What a member tells the leader when it joins: the user data of its subscription. */
export interface SubscriptionInfo {
  /** The stable UUID of the worker process (kept in its state directory). */
  readonly workerId: string
  /** Where its ops server answers interactive queries; null when it has none. */
  readonly url: string | null
  /**
   * The tasks of its latest assignment (active or still pending a hand-over), so that the next
   * placement keeps them where they are.
   */
  readonly ownedTasks: readonly TaskId[]
  /**
   * Per task, the sum of the changelog offsets its local stores hold (active tasks and standby
   * copies): how much state it has, so a failover goes to the most caught-up copy.
   */
  readonly taskOffsets: Readonly<Record<TaskId, number>>
}

/** One member as the placement sees it. */
export interface PlacementMember {
  readonly memberId: string
  /** The topics it subscribed to. */
  readonly topics: ReadonlySet<string>
  /** The tasks it owned before, once claims of two members are settled (see previousOwners). */
  readonly owned: ReadonlySet<TaskId>
  readonly taskOffsets: Readonly<Record<TaskId, number>>
}

/** What a member learns from its share of a generation (see decodeAssignment). */
export interface TaskAssignment {
  /** Every task the plan gives this member, with its source partitions, in task id order. */
  readonly tasks: ReadonlyMap<TaskId, readonly TopicPartition[]>
  /** The planned tasks whose partitions are all assigned now: these may run. */
  readonly active: readonly TaskId[]
  /**
   * Planned tasks with a partition withheld this generation, because its previous owner must
   * revoke it first (cooperative hand-over, KIP-429). They come with the next generation.
   */
  readonly pending: readonly TaskId[]
  /** The group's host map: ops URL -> every source partition of the tasks planned on that member. */
  readonly hosts: ReadonlyMap<string, readonly TopicPartition[]>
  /** The ops URL of the member planned to own this partition, if it advertised one. */
  hostOf(topic: string, partition: number): string | undefined
  /** The worker ids of every member of the group, sorted. */
  readonly workers: readonly string[]
  /** The tasks whose stores this member keeps a standby copy of (never one of its own tasks). */
  readonly standbys: readonly TaskId[]
}
