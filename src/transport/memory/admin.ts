/** The embedded broker's admin client: topics, configs, offsets and groups, with Kafka's errors. */
/* eslint-disable @typescript-eslint/require-await -- async like a network client: throws become rejections */
import { TributaryError } from '../../errors.js'
import type {
  Admin,
  ConfigEntry,
  GroupDescription,
  GroupListing,
  IsolationLevel,
  NewTopic,
  OffsetSpec,
  TopicDescription,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.js'
import {
  groupNotEmpty,
  heldByTransaction,
  subscribedTopics,
  UNSTABLE_OFFSETS_WAIT_MS,
} from '../group/refusals.js'
import type { MemoryBroker } from './broker.js'
import { maintain } from './cleaner.js'
import { CONFIG_NAMES, TOPIC_CONFIGS } from './topic-configs.js'
import { closedError, compareTp, sortedTps, tpKey } from './util.js'

/** The single node's id: every partition's leader, only replica and only in-sync replica. */
const NODE_ID = 0

export class MemoryAdmin implements Admin {
  private closed = false

  constructor(
    private readonly broker: MemoryBroker,
    private readonly onClose: () => void,
  ) {}

  /** Like Kafka, each topic succeeds or fails on its own; the first failure is thrown after the rest were created. */
  async createTopics(topics: NewTopic[]): Promise<void> {
    this.check()
    const names = topics.map((t) => t.topic)
    const duplicate = names.find((name, i) => names.indexOf(name) !== i)
    if (duplicate !== undefined) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Topic ${duplicate} appears more than once in one createTopics call`,
        {
          topic: duplicate,
        },
      )
    }
    this.eachTopic(topics, (spec) => this.broker.createTopic(spec))
  }

  async deleteTopics(topics: string[]): Promise<void> {
    this.check()
    this.eachTopic(topics, (name) => this.broker.deleteTopic(name))
  }

  async listTopics(_options?: { includeInternal?: boolean }): Promise<string[]> {
    this.check()
    // No internal topics: offsets and transaction state live in the broker object, not in topics.
    return [...this.broker.topics.keys()].sort()
  }

  async describeTopics(topics: string[]): Promise<TopicDescription[]> {
    this.check()
    return topics.map((name) => ({
      topic: name,
      partitions: this.broker.topic(name).logs.map((_, partition) => ({
        partition,
        leader: NODE_ID,
        replicas: [NODE_ID],
        isr: [NODE_ID],
      })),
    }))
  }

  async describeConfigs(topic: string): Promise<ConfigEntry[]> {
    this.check()
    const { configs } = this.broker.topic(topic)
    return CONFIG_NAMES.map((name) => ({
      name,
      value: configs.get(name) ?? TOPIC_CONFIGS[name]!.default,
      isDefault: !configs.has(name),
      source: configs.has(name) ? 'topic' : 'default',
      readOnly: false,
      sensitive: false,
    }))
  }

  /** Removing a config that was never set is a no-op, as on a real broker. */
  async alterConfigs(
    topic: string,
    changes: { set?: Record<string, string>; remove?: string[] },
  ): Promise<void> {
    this.check()
    this.broker.alterConfigs(topic, changes.set ?? {}, changes.remove ?? [])
  }

  async createPartitions(topic: string, totalCount: number): Promise<void> {
    this.check()
    this.broker.createPartitions(topic, totalCount)
  }

  /**
   * 'latest' is the log end offset (markers included) under read_uncommitted and the last stable
   * offset under read_committed, as Kafka's ListOffsets gives them. A timestamp lookup under
   * read_committed finds nothing at or past the last stable offset, which then answers.
   */
  async listOffsets(
    topic: string,
    spec: OffsetSpec,
    options: { isolationLevel?: IsolationLevel } = {},
  ): Promise<TopicPartitionOffset[]> {
    this.check()
    const isolation = options?.isolationLevel ?? 'read_uncommitted'
    if (isolation !== 'read_uncommitted' && isolation !== 'read_committed')
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Invalid isolationLevel ${String(isolation)} for listOffsets`,
      )
    const state = this.broker.topic(topic)
    this.broker.faults.check('listOffsets', undefined, `list offsets of topic ${topic}`)
    const now = Date.now()
    return state.logs.map((log) => {
      maintain(log, now)
      const end = isolation === 'read_committed' ? log.lastStableOffset : log.endOffset
      let offset: number
      if (spec === 'earliest') offset = log.startOffset
      else if (spec === 'latest') offset = end
      else if (typeof spec === 'object' && spec !== null && typeof spec.timestamp === 'number')
        offset = Math.min(log.offsetForTimestamp(spec.timestamp), end)
      else
        throw new TributaryError(
          'INVALID_ARGUMENT',
          `Invalid offset spec ${JSON.stringify(spec)} for topic ${topic}`,
          { topic },
        )
      return { topic, partition: log.partition, offset }
    })
  }

  async listGroups(): Promise<GroupListing[]> {
    this.check()
    return [...this.broker.groups.values()]
      .map((group) => {
        group.expire()
        return { groupId: group.id, state: group.state }
      })
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
  }

  /** Kafka describes an unknown group as Dead with no members; like kafka://, that is UNKNOWN_GROUP here. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    this.check()
    const group = this.broker.groups.get(groupId)
    if (!group)
      throw new TributaryError('UNKNOWN_GROUP', `Could not describe group "${groupId}": it does not exist`)
    group.expire()
    const first = group.members.values().next()
    return {
      groupId,
      state: group.state,
      assignor: first.done ? '' : first.value.assignor.name,
      members: [...group.members.values()].map((member) => ({
        memberId: member.id,
        clientId: member.clientId,
        host: '/127.0.0.1',
        assignment: sortedTps(member.target.values()),
      })),
    }
  }

  /** Read stable, as Kafka's: offsets that an open transaction holds are waited for. */
  async listGroupOffsets(
    groupId: string,
    options: { stable?: boolean } = {},
    unstableWaitMs = UNSTABLE_OFFSETS_WAIT_MS,
  ): Promise<TopicPartitionOffset[]> {
    this.check()
    const deadline = Date.now() + unstableWaitMs
    const stable = options.stable ?? true
    while (stable && (this.broker.groups.get(groupId)?.pendingTxnOffsets.size ?? 0) > 0) {
      if (Date.now() >= deadline)
        throw heldByTransaction(`list offsets of group "${groupId}"`, unstableWaitMs)
      await new Promise((resolve) => setTimeout(resolve, 20))
      this.check()
    }
    const group = this.broker.groups.get(groupId)
    return group ? [...group.offsets.values()].map((o) => ({ ...o })).sort(compareTp) : []
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.check()
    const group = this.broker.groups.get(groupId)
    if (!group) throw new TributaryError('UNKNOWN_GROUP', `Group ${groupId} does not exist`)
    group.expire()
    if (group.members.size > 0) throw await this.notEmpty(groupId, `delete group "${groupId}"`)
    group.stop()
    this.broker.groups.delete(groupId)
  }

  async alterGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    this.check()
    const action = `commit offsets for group "${groupId}"`
    const existing = this.broker.groups.get(groupId)
    existing?.expire()
    if (existing && existing.members.size > 0) throw await this.notEmpty(groupId, action)
    for (const { topic, partition } of offsets) {
      const count = this.broker.partitionCounts().get(topic)
      if (count === undefined)
        throw new TributaryError('UNKNOWN_TOPIC', `Could not ${action}: topic "${topic}" does not exist`, {
          topic,
        })
      if (partition < 0 || partition >= count)
        throw new TributaryError(
          'UNKNOWN_TOPIC',
          `Could not ${action}: topic "${topic}" has no partition ${partition} (it has ${count})`,
          { topic, partition },
        )
    }
    this.broker.group(groupId).store(offsets)
  }

  async deleteGroupOffsets(groupId: string, partitions: TopicPartition[]): Promise<void> {
    this.check()
    const group = this.broker.groups.get(groupId)
    if (!group) throw new TributaryError('UNKNOWN_GROUP', `Group ${groupId} does not exist`)
    group.expire()
    const subscribed = new Set([...group.members.values()].flatMap((m) => [...m.topics]))
    const refused = [...new Set(partitions.map((p) => p.topic))].filter((t) => subscribed.has(t))
    if (refused.length > 0)
      throw subscribedTopics(`delete offsets of group "${groupId}"`, refused, {
        members: group.members.size,
        state: group.state,
      })
    for (const { topic, partition } of partitions) group.offsets.delete(tpKey(topic, partition))
  }

  private async notEmpty(groupId: string, action: string): Promise<TributaryError> {
    return groupNotEmpty(await this.describeGroup(groupId), action)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.onClose()
  }

  private check(): void {
    if (this.closed) throw closedError('admin client')
    this.broker.check()
  }

  private eachTopic<T>(items: readonly T[], action: (item: T) => void): void {
    let first: unknown
    for (const item of items) {
      try {
        action(item)
      } catch (error) {
        first ??= error
      }
    }
    if (first !== undefined) throw first as Error
  }
}
