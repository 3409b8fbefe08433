/** A simulated consumer group for the task assignor tests, run through the transport's cooperative pass. */
import { decodeAssignment, encodeSubscription } from '../../../src/runtime/assignment/user-data.js'
import type { TaskId } from '../../../src/runtime/assignment/types.js'
import { cooperativeAssign } from '../../../src/transport/group/cooperative.js'
import type {
  GroupAssignor,
  MemberAssignment,
  MemberSubscription,
  TopicPartition,
} from '../../../src/transport/types.js'

/** One simulated worker: what it advertises and what it holds between generations. */
export interface SimMember {
  readonly memberId: string
  readonly workerId: string
  topics: string[]
  url: string | null
  /** Every task of its latest plan (pending included): what it claims when it joins. */
  plan: TaskId[]
  /** The partitions the transport actually gave it, and the generation they came with. */
  owned: TopicPartition[]
  generation: number
  /** The tasks it may run in its latest generation. */
  active: TaskId[]
  /** Grows for every task it ran: its local state survives a move (for standby-aware placement). */
  offsets: Record<TaskId, number>
}

/** What one simulated generation produced. */
export interface SimGeneration {
  generation: number
  /** The assignor's plan (before the cooperative pass withheld anything). */
  plan: Map<string, MemberAssignment>
  /** The plan's tasks per member, as each member decoded them. */
  tasks: Map<string, TaskId[]>
  withheld: TopicPartition[]
  /** The subscriptions the leader saw. */
  subscriptions: MemberSubscription[]
}

/**
 * A consumer group of simulated workers driven through the transport's cooperative pass (the same
 * code both transports run), so generations, hand-overs and lost members behave as in the group.
 */
export class SimGroup {
  generation = 0
  readonly members = new Map<string, SimMember>()

  constructor(
    private readonly assignor: GroupAssignor,
    public partitionCounts: ReadonlyMap<string, number>,
  ) {}

  join(
    memberId: string,
    topics: readonly string[],
    url: string | null = `http://${memberId}:6066`,
  ): SimMember {
    const sim: SimMember = {
      memberId,
      workerId: `worker-${memberId}`,
      topics: [...topics],
      url,
      plan: [],
      owned: [],
      generation: -1,
      active: [],
      offsets: {},
    }
    this.members.set(memberId, sim)
    return sim
  }

  /** Leaves (closes or is lost): gone from the group; the returned state can rejoin later, stale. */
  leave(memberId: string): SimMember {
    const sim = this.members.get(memberId)!
    this.members.delete(memberId)
    return sim
  }

  /** Rejoins a lost member with the claims it had then (a zombie whose session expired). */
  rejoin(sim: SimMember): void {
    this.members.set(sim.memberId, sim)
  }

  subscriptions(): MemberSubscription[] {
    return [...this.members.values()].map((sim) => ({
      memberId: sim.memberId,
      topics: sim.topics,
      owned: sim.owned,
      generation: sim.generation,
      userData: encodeSubscription({
        workerId: sim.workerId,
        url: sim.url,
        ownedTasks: sim.plan,
        taskOffsets: sim.offsets,
      }),
    }))
  }

  /** One rebalance: the leader assigns, the transport withholds hand-overs, every member learns its share. */
  rebalance(): SimGeneration {
    this.generation++
    const subscriptions = this.subscriptions()
    // The plan as the assignor made it, caught on its way into the cooperative pass.
    let plan = new Map<string, MemberAssignment>()
    const catching: GroupAssignor = {
      name: this.assignor.name,
      assign: (members, partitionCounts) => (plan = this.assignor.assign(members, partitionCounts)),
    }
    const { assignments, withheld } = cooperativeAssign(catching, subscriptions, this.partitionCounts)
    const tasks = new Map<string, TaskId[]>()
    for (const sim of this.members.values()) {
      const share = assignments.get(sim.memberId) ?? { partitions: [], userData: null }
      const decoded = decodeAssignment(share.userData, share.partitions)
      sim.plan = [...decoded.tasks.keys()]
      tasks.set(sim.memberId, sim.plan)
      sim.owned = share.partitions
      sim.generation = share.partitions.length > 0 ? this.generation : -1
      sim.active = [...decoded.active]
      for (const task of sim.active) sim.offsets[task] = (sim.offsets[task] ?? 0) + 10
    }
    return { generation: this.generation, plan, tasks, withheld, subscriptions }
  }

  /** Which member runs each task now; throws if two do. */
  runners(): Map<TaskId, string> {
    const runners = new Map<TaskId, string>()
    for (const sim of this.members.values())
      for (const task of sim.active) {
        const other = runners.get(task)
        if (other !== undefined)
          throw new Error(
            `task ${task} runs on ${other} and ${sim.memberId} in generation ${this.generation}`,
          )
        runners.set(task, sim.memberId)
      }
    return runners
  }
}
