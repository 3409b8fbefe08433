/**
 * The embedded broker: topics of partition logs, consumer groups and the transaction coordinator of
 * one `memory://name`, kept in a process-wide registry so that every transport opened on the same
 * name (a restarted consumer, another worker of the same app) sees the same data and offsets.
 */
import { TributaryError } from '../../errors.js'
import type { NewTopic } from '../types.js'
import { Faults } from './faults.js'
import { Group } from './group/coordinator.js'
import { PartitionLog, type BrokerSettings } from './log.js'
import { effectiveConfig, validateTopicConfig, type EffectiveConfig } from './topic-configs.js'
import { TransactionCoordinator } from './transaction-coordinator.js'
import { checkPartition } from './util.js'

export interface TopicState {
  readonly name: string
  readonly logs: PartitionLog[]
  /** The configs set on the topic (the rest are Kafka's defaults). */
  readonly configs: Map<string, string>
  config: EffectiveConfig
}

const LEGAL_NAME = /^[a-zA-Z0-9._-]+$/

export class MemoryBroker {
  readonly topics = new Map<string, TopicState>()
  readonly groups = new Map<string, Group>()
  readonly transactions = new TransactionCoordinator()
  /** Errors tests asked the next calls of an API to fail with (see faults.ts). */
  readonly faults: Faults
  /** Broker configs; Kafka's defaults unless the URL (`memory://name?log.retention.check.interval.ms=0`) sets them. */
  readonly settings: BrokerSettings = { retentionCheckIntervalMs: 300_000 }
  /**
   * Whether a consumer waiting in poll() keeps the process alive (as a socket of a real client does).
   * The test driver's private broker says no: a test that fails before close() must still end.
   */
  pollsHoldProcess = true
  private stopped = false

  constructor(readonly name: string) {
    this.faults = new Faults(name)
  }

  /** Fails once the broker was reset, so clients of a discarded broker cannot silently diverge. */
  check(): void {
    if (this.stopped) throw new TributaryError('CLOSED', `The memory broker "${this.name}" was reset`)
  }

  topic(name: string): TopicState {
    this.check()
    const topic = this.topics.get(name)
    if (!topic)
      throw new TributaryError('UNKNOWN_TOPIC', `Topic ${String(name)} does not exist`, { topic: name })
    return topic
  }

  log(topic: string, partition: number): PartitionLog {
    const state = this.topic(topic)
    return state.logs[checkPartition(topic, partition, state.logs.length)]!
  }

  /** The log if the partition exists now (a deleted or re-created topic gives another or none). */
  findLog(topic: string, partition: number): PartitionLog | undefined {
    return this.topics.get(topic)?.logs[partition]
  }

  partitionCounts(): Map<string, number> {
    return new Map([...this.topics].map(([name, t]) => [name, t.logs.length]))
  }

  /** Validates a whole topic spec (name, partitions, replication, configs) before creating anything. */
  createTopic(spec: NewTopic): void {
    this.check()
    const name = spec.topic
    if (
      typeof name !== 'string' ||
      name === '.' ||
      name === '..' ||
      name.length > 249 ||
      !LEGAL_NAME.test(name)
    ) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Invalid topic name "${String(name)}": use 1 to 249 of [a-zA-Z0-9._-], not "." or ".."`,
      )
    }
    if (this.topics.has(name))
      throw new TributaryError('TOPIC_EXISTS', `Topic ${name} already exists`, { topic: name })
    const folded = name.replace(/\./g, '_')
    for (const other of this.topics.keys()) {
      if (other.replace(/\./g, '_') === folded) {
        throw new TributaryError(
          'INVALID_ARGUMENT',
          `Topic ${name} collides with existing topic ${other}: Kafka treats '.' and '_' alike in metric names`,
          { topic: name },
        )
      }
    }
    const partitions = spec.partitions === undefined || spec.partitions === -1 ? 1 : spec.partitions
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new TributaryError(
        'INVALID_PARTITIONS',
        `Topic ${name} needs at least 1 partition, not ${partitions}`,
        {
          topic: name,
        },
      )
    }
    const replicas =
      spec.replicationFactor === undefined || spec.replicationFactor === -1 ? 1 : spec.replicationFactor
    if (replicas !== 1) {
      // Kafka's INVALID_REPLICATION_FACTOR: the embedded broker is a single node.
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Invalid replication factor ${replicas} for topic ${name}: the embedded broker is a single node, so it must be 1`,
        { topic: name },
      )
    }
    const configs = new Map<string, string>()
    for (const [key, value] of Object.entries(spec.configs ?? {})) {
      validateTopicConfig(name, key, value)
      configs.set(key, value.trim())
    }
    const config = effectiveConfig(configs)
    const logs = Array.from(
      { length: partitions },
      (_, p) => new PartitionLog(name, p, config, this.settings),
    )
    this.topics.set(name, { name, logs, configs, config })
    this.topicChanged(name, false)
  }

  deleteTopic(name: string): void {
    const topic = this.topic(name)
    this.topics.delete(name)
    for (const log of topic.logs) log.notify()
    this.topicChanged(name, true)
  }

  /** Incremental config change, validated as a whole before any of it applies. */
  alterConfigs(name: string, set: Record<string, string>, remove: readonly string[]): void {
    const topic = this.topic(name)
    for (const [key, value] of Object.entries(set)) validateTopicConfig(name, key, value)
    for (const key of remove) topic.configs.delete(key)
    for (const [key, value] of Object.entries(set)) topic.configs.set(key, value.trim())
    topic.config = effectiveConfig(topic.configs)
    for (const log of topic.logs) log.config = topic.config
  }

  /** Kafka can only grow a topic; existing partitions and keys' placement stay as they are. */
  createPartitions(name: string, total: number): void {
    const topic = this.topic(name)
    const count = topic.logs.length
    if (!Number.isInteger(total) || total <= count) {
      const why =
        total === count
          ? `Topic ${name} already has ${count} partition(s)`
          : `Topic ${name} has ${count} partition(s); ${total} would not be an increase`
      throw new TributaryError('INVALID_PARTITIONS', why, { topic: name })
    }
    for (let p = count; p < total; p++)
      topic.logs.push(new PartitionLog(name, p, topic.config, this.settings))
    this.topicChanged(name, false)
  }

  /** The group, created on first use (a join or a commit), as Kafka's coordinator does. */
  group(id: string): Group {
    this.check()
    let group = this.groups.get(id)
    if (!group) this.groups.set(id, (group = new Group(id, () => this.partitionCounts())))
    return group
  }

  private topicChanged(name: string, deleted: boolean): void {
    for (const group of this.groups.values()) group.topicChanged(name, deleted)
  }

  /** Stops every timer and wakes every waiting poll; clients then fail with CLOSED. */
  shutdown(): void {
    this.stopped = true
    this.transactions.stop()
    for (const group of this.groups.values()) {
      group.stop()
      group.wakeAll()
    }
    for (const topic of this.topics.values()) for (const log of topic.logs) log.notify()
  }
}

const registry = new Map<string, MemoryBroker>()

/** The broker behind `memory://name` (`memory://` is "default"), created on first use. */
export function getMemoryBroker(name = 'default'): MemoryBroker {
  let broker = registry.get(name)
  if (!broker) registry.set(name, (broker = new MemoryBroker(name)))
  return broker
}

/** Discards a broker's topics, groups and transactions (for tests); the next open starts empty. */
export function resetMemoryBroker(name = 'default'): void {
  registry.get(name)?.shutdown()
  registry.delete(name)
}
