/**
 * The group coordinator of one consumer: found by us (FindCoordinator) and found again when it
 * moved, and OffsetCommit/OffsetFetch sent to it by us rather than by platformatic's Consumer.
 *
 * Why our own lookup: platformatic's Consumer caches the coordinator for its whole life, so once
 * the coordinator moves (its broker restarts, __consumer_offsets leadership moves) every heartbeat
 * and commit would go on asking a broker that answers NOT_COORDINATOR. Here NOT_COORDINATOR,
 * COORDINATOR_NOT_AVAILABLE or a dead connection forget it, and the next request looks again.
 *
 * Why our own commits: platformatic's Consumer.commit on ILLEGAL_GENERATION rejoins the group and
 * commits again under the new generation, so a stale member would overwrite the new owner's
 * offsets. Here a commit carries the generation whose assignment we hold, and the broker's
 * generation check is final.
 */
import {
  FindCoordinatorKeyTypes,
  kGetApi,
  kGetBootstrapConnection,
  kGetConnection,
  type Connection,
  type ConnectionPool,
  type Consumer as PltConsumer,
} from '@platformatic/kafka'
import type { TopicPartition, TopicPartitionOffset } from '../types.js'
import { protocolIds } from './errors.js'
import { byTopic } from '../by-topic.js'

type Api = (connection: Connection, ...args: unknown[]) => void
interface Broker {
  nodeId: number
  host: string
  port: number
}

function callback<T>(resolve: (value: T) => void, reject: (error: unknown) => void) {
  return (error: Error | null, value?: T) => (error ? reject(error) : resolve(value as T))
}

/** Answers that mean the coordinator is elsewhere (or being elected): look it up again. */
const MOVED = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE'])
/** Worth another try at the coordinator: it is loading, moving, or offsets are mid-transaction. */
const TRANSIENT = new Set([
  ...MOVED,
  'COORDINATOR_LOAD_IN_PROGRESS',
  'UNSTABLE_OFFSET_COMMIT',
  'REQUEST_TIMED_OUT',
])

export interface Membership {
  groupId: string
  /** -1 with an empty member id commits as a simple (assign-only) client, as Kafka's consumers do. */
  generationId: number
  memberId: string
  /** Static membership (KIP-345): the broker fences a commit from a replaced instance. */
  groupInstanceId?: string | undefined
}

/** Offsets as OffsetCommit and TxnOffsetCommit take them: per topic, every partition's next offset. */
function offsetTopics(offsets: TopicPartitionOffset[]) {
  return [...byTopic(offsets)].map(([name, list]) => ({
    name,
    partitions: list.map((o) => ({
      partitionIndex: o.partition,
      committedOffset: BigInt(o.offset),
      committedLeaderEpoch: -1,
      committedMetadata: null,
    })),
  }))
}

export class GroupCoordinator {
  readonly groupId: string
  readonly #client: PltConsumer
  #broker: Promise<Broker> | undefined

  constructor(client: PltConsumer, groupId: string) {
    this.#client = client
    this.groupId = groupId
  }

  /** The coordinator's node id (transactions send offsets there). */
  async nodeId(): Promise<number> {
    return (await this.#find()).nodeId
  }

  /** A connection to the coordinator: the client's own, or one of `pool` (for long requests). */
  async connection(pool?: ConnectionPool): Promise<Connection> {
    const broker = await this.#find()
    try {
      if (pool) return await pool.get(broker)
      return await new Promise<Connection>((resolve, reject) =>
        this.#client[kGetConnection](broker, callback(resolve, reject)),
      )
    } catch (error) {
      this.forget()
      throw error
    }
  }

  /** Called with any failure of a request to the coordinator: a moved or dead one is looked up again. */
  failed(error: unknown): void {
    const ids = protocolIds(error)
    if (ids.length === 0 || ids.some((id) => MOVED.has(id))) this.forget()
  }

  forget(): void {
    this.#broker = undefined
  }

  #find(): Promise<Broker> {
    if (!this.#broker) {
      const lookup = this.#lookup()
      this.#broker = lookup
      lookup.catch(() => {
        if (this.#broker === lookup) this.#broker = undefined
      })
    }
    return this.#broker
  }

  async #lookup(): Promise<Broker> {
    const client = this.#client
    const connection = await new Promise<Connection>((resolve, reject) =>
      client[kGetBootstrapConnection](callback(resolve, reject)),
    )
    const api = await new Promise<Api>((resolve, reject) =>
      client[kGetApi]('FindCoordinator', callback(resolve, reject)),
    )
    const response = await new Promise<{ coordinators: Array<Broker & { key: string }> }>((resolve, reject) =>
      api(connection, FindCoordinatorKeyTypes.GROUP, [this.groupId], callback(resolve, reject)),
    )
    const found = response.coordinators.find((c) => c.key === this.groupId)
    if (!found) throw new Error(`FindCoordinator did not answer for group "${this.groupId}"`)
    return { nodeId: found.nodeId, host: found.host, port: found.port }
  }

  /** Runs a request at the coordinator, again while it is loading or moving (up to `deadlineMs`). */
  async request<T>(name: string, args: unknown[], deadlineMs = 10_000): Promise<T> {
    const deadline = Date.now() + deadlineMs
    for (let attempt = 0; ; attempt++) {
      try {
        const connection = await this.connection()
        const api = await new Promise<Api>((resolve, reject) =>
          this.#client[kGetApi](name, callback(resolve, reject)),
        )
        return await new Promise<T>((resolve, reject) => api(connection, ...args, callback(resolve, reject)))
      } catch (error) {
        this.failed(error)
        const transient = protocolIds(error).some((id) => TRANSIENT.has(id))
        if (!transient || Date.now() > deadline) throw error
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 500)))
      }
    }
  }

  async commit(member: Membership, offsets: TopicPartitionOffset[]): Promise<void> {
    const topics = offsetTopics(offsets)
    await this.request('OffsetCommit', [
      member.groupId,
      member.generationId,
      member.memberId,
      member.groupInstanceId ?? null,
      topics,
    ])
  }

  /**
   * The offsets of a transaction (TxnOffsetCommit, KIP-447): every partition in one request, under
   * the member's generation, so that a zombie member's transaction is fenced by the broker. They
   * take effect when the transaction commits.
   */
  async commitInTransaction(
    member: Membership,
    producer: { transactionalId: string; producerId: bigint; producerEpoch: number },
    offsets: TopicPartitionOffset[],
  ): Promise<void> {
    const topics = offsetTopics(offsets)
    await this.request('TxnOffsetCommit', [
      producer.transactionalId,
      member.groupId,
      producer.producerId,
      producer.producerEpoch,
      member.generationId,
      member.memberId,
      member.groupInstanceId ?? null,
      topics,
    ])
  }

  /** The group's committed next-offsets, read stable: pending transactional commits are waited for. */
  async committed(partitions: TopicPartition[]): Promise<Map<string, number>> {
    const topics = [...byTopic(partitions)].map(([name, list]) => ({
      name,
      partitionIndexes: list.map((p) => p.partition),
    }))
    const response = await this.request<{
      groups: Array<{
        topics: Array<{
          name: string
          partitions: Array<{ partitionIndex: number; committedOffset: bigint }>
        }>
      }>
    }>('OffsetFetch', [[{ groupId: this.groupId, memberId: null, memberEpoch: -1, topics }], true])
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
}
