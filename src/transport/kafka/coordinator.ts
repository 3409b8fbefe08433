/**
 * OffsetCommit and OffsetFetch sent to the group coordinator by us rather than by platformatic's
 * Consumer.commit, which on ILLEGAL_GENERATION rejoins the group and commits again under the new
 * generation: a stale member would then overwrite the new owner's offsets. Here a commit carries
 * the generation whose assignment we hold, and the broker's generation check is final.
 */
import {
  kGetApi,
  kGetConnection,
  type Connection,
  type ConnectionPool,
  type Consumer as PltConsumer,
} from '@platformatic/kafka'
import type { TopicPartition, TopicPartitionOffset } from '../types.js'
import { protocolIds } from './errors.js'

type Api = (connection: Connection, ...args: unknown[]) => void

function callback<T>(resolve: (value: T) => void, reject: (error: unknown) => void) {
  return (error: Error | null, value?: T) => (error ? reject(error) : resolve(value as T))
}

/** A connection to the group coordinator: the client's own, or one of `pool` (for long requests). */
export async function coordinatorConnection(client: PltConsumer, pool?: ConnectionPool): Promise<Connection> {
  const nodeId = await client.findGroupCoordinator()
  const metadata = await client.metadata({ topics: [] })
  const broker = metadata.brokers.get(nodeId)
  if (!broker) throw new Error(`Group coordinator ${nodeId} is not in the cluster metadata`)
  if (pool) return pool.get(broker)
  return new Promise((resolve, reject) => client[kGetConnection](broker, callback(resolve, reject)))
}

async function request<T>(client: PltConsumer, name: string, args: unknown[]): Promise<T> {
  const connection = await coordinatorConnection(client)
  const api = await new Promise<Api>((resolve, reject) => client[kGetApi](name, callback(resolve, reject)))
  return new Promise<T>((resolve, reject) => api(connection, ...args, callback(resolve, reject)))
}

/** Errors worth one more try at the coordinator: it is loading, moving, or offsets are mid-transaction. */
const TRANSIENT = new Set([
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'UNSTABLE_OFFSET_COMMIT',
  'REQUEST_TIMED_OUT',
])

export async function withRetries<T>(run: () => Promise<T>, deadlineMs = 10_000): Promise<T> {
  const deadline = Date.now() + deadlineMs
  for (let attempt = 0; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      const transient = protocolIds(error).some((id) => TRANSIENT.has(id))
      if (!transient || Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 500)))
    }
  }
}

function byTopic<T extends TopicPartition>(partitions: T[]): Map<string, T[]> {
  const topics = new Map<string, T[]>()
  for (const p of partitions) {
    const list = topics.get(p.topic)
    if (list) list.push(p)
    else topics.set(p.topic, [p])
  }
  return topics
}

export interface Membership {
  groupId: string
  /** -1 with an empty member id commits as a simple (assign-only) client, as Kafka's consumers do. */
  generationId: number
  memberId: string
}

export async function commitOffsets(
  client: PltConsumer,
  member: Membership,
  offsets: TopicPartitionOffset[],
): Promise<void> {
  const topics = [...byTopic(offsets)].map(([name, list]) => ({
    name,
    partitions: list.map((o) => ({
      partitionIndex: o.partition,
      committedOffset: BigInt(o.offset),
      committedLeaderEpoch: -1,
      committedMetadata: null,
    })),
  }))
  await withRetries(() =>
    request(client, 'OffsetCommit', [member.groupId, member.generationId, member.memberId, null, topics]),
  )
}

/** The group's committed next-offsets, read stable: pending transactional commits are waited for. */
export async function fetchCommitted(
  client: PltConsumer,
  groupId: string,
  partitions: TopicPartition[],
): Promise<Map<string, number>> {
  const topics = [...byTopic(partitions)].map(([name, list]) => ({
    name,
    partitionIndexes: list.map((p) => p.partition),
  }))
  const response = await withRetries(() =>
    request<{
      groups: Array<{
        topics: Array<{
          name: string
          partitions: Array<{ partitionIndex: number; committedOffset: bigint }>
        }>
      }>
    }>(client, 'OffsetFetch', [[{ groupId, memberId: null, memberEpoch: -1, topics }], true]),
  )
  const committed = new Map<string, number>()
  for (const group of response.groups) {
    for (const topic of group.topics) {
      for (const p of topic.partitions) {
        if (p.committedOffset >= 0n)
          committed.set(`${topic.name}:${p.partitionIndex}`, Number(p.committedOffset))
      }
    }
  }
  return committed
}
