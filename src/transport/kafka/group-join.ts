/**
 * One round of classic group membership: JoinGroup, the leader's assignor, SyncGroup (sent with
 * platformatic's protocol functions). The leader runs the group's GroupAssignor through
 * `cooperativeAssign`, which gives a partition that moves from a live owner to nobody in this
 * generation (the owner revokes it, then the next generation hands it over: see group.ts).
 */
import {
  joinGroupV9,
  syncGroupV5,
  type ConnectionPool,
  type Consumer as PltConsumer,
} from '@platformatic/kafka'
import { TributaryError } from '../../errors.js'
import { cooperativeAssign } from '../group/cooperative.js'
import type { GroupAssignor, MemberAssignment, MemberSubscription, TopicPartition } from '../types.js'
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from './assignor.js'
import type { GroupCoordinator } from './coordinator.js'
import { protocolIds, responseIn, toTributaryError } from './errors.js'
import type { Link } from './link.js'

export interface JoinRequest {
  groupId: string
  /** '' for a member that has none yet. */
  memberId: string
  instanceId: string | undefined
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  assignor: GroupAssignor
  topics: string[]
  owned: TopicPartition[]
  /** The generation in which we got `owned`; -1 when we own nothing. */
  generation: number
  /** Makes our metadata differ from last time, so that a follower's JoinGroup starts a rebalance. */
  nonce: number | undefined
  reason: string | null
}

export interface Joined {
  generation: number
  memberId: string
  leader: boolean
  /** Ours in this generation (of the topics we subscribe to), with the assignor's user data. */
  assignment: MemberAssignment
  /** The partition counts the leader assigned from (empty on other members). */
  counts: Map<string, number>
}

export interface JoinContext {
  client: PltConsumer
  link: Link
  coordinator: GroupCoordinator
  /** JoinGroup waits for the whole rebalance: its own connections, with a long timeout. */
  pool: ConnectionPool
  /** Told the member id as soon as the coordinator gives one (KIP-394), for a retry to use. */
  onMemberId(memberId: string): void
}

export async function joinAndSync(context: JoinContext, request: JoinRequest): Promise<Joined> {
  const { link, coordinator, pool } = context
  const { groupId, assignor } = request
  const instanceId = request.instanceId ?? null
  const metadata = encodeSubscription(
    {
      topics: request.topics,
      owned: request.owned,
      generation: request.generation,
      userData: assignor.userData?.() ?? null,
    },
    request.nonce,
  )
  let memberId = request.memberId
  const join = await link.run(`join group "${groupId}"`, async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        const connection = await coordinator.connection(pool)
        return await joinGroupV9.api.async(
          connection,
          groupId,
          request.sessionTimeoutMs,
          request.rebalanceTimeoutMs,
          memberId,
          instanceId,
          'consumer',
          [{ name: assignor.name, metadata }],
          request.reason,
        )
      } catch (error) {
        coordinator.failed(error)
        // KIP-394: a new member first gets its id, then joins with it.
        const given = responseIn<{ memberId?: string | null }>(error)?.memberId
        if (attempt < 3 && protocolIds(error).includes('MEMBER_ID_REQUIRED') && given) {
          memberId = given
          context.onMemberId(given)
          continue
        }
        throw error
      }
    }
  })
  memberId = join.memberId ?? memberId
  context.onMemberId(memberId)
  const leader = join.leader === memberId
  let assignments: Array<{ memberId: string; assignment: Buffer }> = []
  let counts = new Map<string, number>()
  if (leader) {
    const members: MemberSubscription[] = join.members.map((m) => {
      const subscription = decodeSubscription(m.metadata)
      return {
        memberId: m.memberId,
        ...(m.groupInstanceId ? { instanceId: m.groupInstanceId } : {}),
        ...subscription,
      }
    })
    counts = await partitionCounts(context, [...new Set(members.flatMap((m) => m.topics))])
    // KIP-814: a static leader that rejoined a stable group must not assign; the broker keeps the
    // current assignment, and the leader still learns the members (to watch their topics).
    if (!join.skipAssignment) {
      let plan
      try {
        plan = cooperativeAssign(assignor, members, counts)
      } catch (error) {
        throw new TributaryError(
          'INVALID_ARGUMENT',
          `The group assignor "${assignor.name}" of group "${groupId}" failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        )
      }
      assignments = members.map((m) => ({
        memberId: m.memberId,
        assignment: encodeAssignment(plan.assignments.get(m.memberId) ?? { partitions: [], userData: null }),
      }))
    }
  }
  const sync = await link.run(`sync group "${groupId}"`, async () => {
    try {
      const connection = await coordinator.connection(pool)
      return await syncGroupV5.api.async(
        connection,
        groupId,
        join.generationId,
        memberId,
        instanceId,
        'consumer',
        join.protocolName ?? assignor.name,
        assignments,
      )
    } catch (error) {
      coordinator.failed(error)
      throw error
    }
  })
  const wanted = new Set(request.topics)
  const assignment = decodeAssignment(sync.assignment)
  return {
    generation: join.generationId,
    memberId,
    leader,
    assignment: {
      partitions: assignment.partitions.filter((tp) => wanted.has(tp.topic)),
      userData: assignment.userData,
    },
    counts,
  }
}

/** Partition counts, fresh from the cluster; 0 for a topic that is gone. */
export async function partitionCounts(
  context: Pick<JoinContext, 'client' | 'link'>,
  topics: string[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for (const topic of topics.sort()) {
    try {
      const metadata = await context.client.metadata({ topics: [topic], forceUpdate: true })
      counts.set(topic, metadata.topics.get(topic)?.partitionsCount ?? 0)
    } catch (error) {
      const mapped = toTributaryError(
        error,
        context.link.context(`read metadata of topic "${topic}"`, { topic }),
      )
      if (mapped.code !== 'UNKNOWN_TOPIC') throw mapped
      counts.set(topic, 0)
    }
  }
  return counts
}
