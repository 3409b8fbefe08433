/** The Admin interface on @platformatic/kafka's Admin client. */
import {
  Admin as PltAdmin,
  ConfigResourceTypes,
  ConfigSources,
  FetchIsolationLevels,
  IncrementalAlterConfigOperationTypes,
} from '@platformatic/kafka'
import { TributaryError } from '../../errors.js'
import type {
  Admin,
  ConfigEntry,
  ConfigSource,
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
  alterGroupOffsets,
  deleteGroupOffsets,
  describeGroup,
  listGroupOffsets,
  listGroups,
} from './admin-groups.js'
import { groupNotEmpty } from '../group/refusals.js'
import { Link } from './link.js'
import { baseOptions, type ResolvedConnection } from './options.js'

/** Kafka's config sources by their protocol number. */
const CONFIG_SOURCES: Record<number, ConfigSource> = {
  [ConfigSources.TOPIC_CONFIG]: 'topic',
  [ConfigSources.DYNAMIC_BROKER_CONFIG]: 'dynamic-broker',
  [ConfigSources.DYNAMIC_DEFAULT_BROKER_CONFIG]: 'dynamic-default-broker',
  [ConfigSources.STATIC_BROKER_CONFIG]: 'static-broker',
  [ConfigSources.DEFAULT_CONFIG]: 'default',
}

export class KafkaAdmin implements Admin {
  readonly #client: PltAdmin
  readonly #link: Link
  readonly #onClose: () => void

  constructor(connection: ResolvedConnection, onClose: () => void) {
    this.#client = new PltAdmin(baseOptions(connection, 'tributary-admin'))
    this.#link = new Link(connection)
    this.#onClose = onClose
  }

  async createTopics(topics: NewTopic[]): Promise<void> {
    const results = await Promise.allSettled(topics.map((t) => this.#createTopic(t)))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  }

  async #createTopic(topic: NewTopic): Promise<void> {
    const configs = Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value }))
    const created = await this.#link.run(
      `create topic "${topic.topic}"`,
      () =>
        this.#client.createTopics({
          topics: [topic.topic],
          partitions: topic.partitions ?? 1,
          replicas: topic.replicationFactor ?? 1,
          configs,
        }),
      { topic: topic.topic },
    )
    await this.#awaitPartitions(topic.topic, created[0]?.partitions ?? topic.partitions ?? 1)
  }

  /**
   * The controller answers before every broker's metadata shows the change; wait until ours does,
   * so that a produce or describe right after does not see a missing topic or partition.
   */
  async #awaitPartitions(topic: string, count: number): Promise<void> {
    const deadline = Date.now() + 10_000
    for (;;) {
      const seen = await this.#client.metadata({ topics: [topic], forceUpdate: true }).then(
        (m) => m.topics.get(topic)?.partitions.filter((p) => p !== undefined && p.leader >= 0).length ?? 0,
        () => 0,
      )
      if (seen >= count || Date.now() > deadline) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  async deleteTopics(topics: string[]): Promise<void> {
    if (topics.length === 0) return
    const topic = topics.length === 1 ? topics[0] : undefined
    await this.#link.run(`delete topics ${topics.join(', ')}`, () => this.#client.deleteTopics({ topics }), {
      topic,
    })
  }

  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    const includeInternals = options.includeInternal ?? false
    const names = await this.#link.run('list topics', () => this.#client.listTopics({ includeInternals }))
    // Platformatic's metadata has no internal flag for every internal topic: keep Kafka's naming rule.
    return names.filter((n) => includeInternals || !n.startsWith('__')).sort()
  }

  async describeTopics(topics: string[]): Promise<TopicDescription[]> {
    const descriptions: TopicDescription[] = []
    for (const topic of topics) {
      const metadata = await this.#link.run(
        `describe topic "${topic}"`,
        () => this.#client.metadata({ topics: [topic], forceUpdate: true }),
        { topic },
      )
      const found = metadata.topics.get(topic)
      if (!found)
        throw new TributaryError('UNKNOWN_TOPIC', `Could not describe topic "${topic}": it does not exist`, {
          topic,
        })
      descriptions.push({
        topic,
        partitions: found.partitions.map((p, partition) => ({
          partition,
          leader: p.leader,
          replicas: [...p.replicas],
          isr: [...p.isr],
        })),
      })
    }
    return descriptions
  }

  async describeConfigs(topic: string): Promise<ConfigEntry[]> {
    const [described] = await this.#link.run(
      `describe configs of topic "${topic}"`,
      () =>
        this.#client.describeConfigs({
          resources: [
            { resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: [] },
          ],
        }),
      { topic },
    )
    return (described?.configs ?? [])
      .map((c) => ({
        name: c.name,
        value: c.value ?? null,
        isDefault: c.configSource !== ConfigSources.TOPIC_CONFIG,
        source: CONFIG_SOURCES[c.configSource] ?? 'unknown',
        readOnly: c.readOnly,
        sensitive: c.isSensitive,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  async alterConfigs(
    topic: string,
    changes: { set?: Record<string, string>; remove?: string[] },
  ): Promise<void> {
    const configs = [
      ...Object.entries(changes.set ?? {}).map(([name, value]) => ({
        name,
        value,
        configOperation: IncrementalAlterConfigOperationTypes.SET,
      })),
      ...(changes.remove ?? []).map((name) => ({
        name,
        value: null,
        configOperation: IncrementalAlterConfigOperationTypes.DELETE,
      })),
    ]
    if (configs.length === 0) return
    await this.#link.run(
      `alter configs of topic "${topic}"`,
      () =>
        this.#client.incrementalAlterConfigs({
          resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configs }],
        }),
      { topic },
    )
  }

  async createPartitions(topic: string, totalCount: number): Promise<void> {
    await this.#link.run(
      `grow topic "${topic}" to ${totalCount} partitions`,
      () =>
        this.#client.createPartitions({ topics: [{ name: topic, count: totalCount, assignments: null }] }),
      { topic },
    )
    await this.#awaitPartitions(topic, totalCount)
  }

  async listOffsets(
    topic: string,
    spec: OffsetSpec,
    options: { isolationLevel?: IsolationLevel } = {},
  ): Promise<TopicPartitionOffset[]> {
    const action = `list offsets of topic "${topic}"`
    const isolationLevel = options.isolationLevel ?? 'read_uncommitted'
    if (isolationLevel !== 'read_uncommitted' && isolationLevel !== 'read_committed')
      throw new TributaryError('INVALID_ARGUMENT', `Unknown isolationLevel "${String(isolationLevel)}"`)
    const metadata = await this.#link.run(
      action,
      () => this.#client.metadata({ topics: [topic], forceUpdate: true }),
      { topic },
    )
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0
    // ListOffsets isolation_level 1: 'latest' is the last stable offset (the first offset of a
    // transaction still open), where a read_committed consumer would stop.
    const request = (timestamp: bigint) => ({
      isolationLevel:
        isolationLevel === 'read_committed'
          ? FetchIsolationLevels.READ_COMMITTED
          : FetchIsolationLevels.READ_UNCOMMITTED,
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp })),
        },
      ],
    })
    const listed = async (timestamp: bigint) => {
      const result = await this.#link.run(action, () => this.#client.listOffsets(request(timestamp)), {
        topic,
      })
      const offsets = new Map<number, number>()
      for (const t of result) for (const p of t.partitions) offsets.set(p.partitionIndex, Number(p.offset))
      return offsets
    }
    const offsets = await listed(spec === 'earliest' ? -2n : spec === 'latest' ? -1n : BigInt(spec.timestamp))
    // No record at or after the timestamp: the answer is the end of the log, where one would go next.
    const ends =
      typeof spec === 'object' && [...offsets.values()].some((o) => o < 0) ? await listed(-1n) : undefined
    return [...offsets.entries()]
      .map(([partition, offset]) => ({
        topic,
        partition,
        offset: offset < 0 ? (ends?.get(partition) ?? 0) : offset,
      }))
      .sort((a, b) => a.partition - b.partition)
  }

  listGroups(): Promise<GroupListing[]> {
    return listGroups(this.#client, this.#link)
  }

  describeGroup(groupId: string): Promise<GroupDescription> {
    return describeGroup(this.#client, this.#link, groupId)
  }

  listGroupOffsets(groupId: string, options: { stable?: boolean } = {}): Promise<TopicPartitionOffset[]> {
    return listGroupOffsets(this.#client, this.#link, groupId, options.stable ?? true)
  }

  async deleteGroup(groupId: string): Promise<void> {
    const action = `delete group "${groupId}"`
    try {
      await this.#link.run(action, () => this.#client.deleteGroups({ groups: [groupId] }), { group: groupId })
    } catch (error) {
      if (!(error instanceof TributaryError && error.code === 'GROUP_NOT_EMPTY')) throw error
      throw groupNotEmpty(await this.describeGroup(groupId), action)
    }
  }

  alterGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    return alterGroupOffsets(this.#client, this.#link, groupId, offsets)
  }

  deleteGroupOffsets(groupId: string, partitions: TopicPartition[]): Promise<void> {
    return deleteGroupOffsets(this.#client, this.#link, groupId, partitions)
  }

  async close(): Promise<void> {
    this.#onClose()
    await this.#client.close()
  }
}
