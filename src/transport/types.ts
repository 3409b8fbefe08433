/**
 * The transport contract: the small Admin, Producer and Consumer interfaces that every layer above
 * uses to reach Kafka. `kafka://` (a real cluster) and `memory://` (the embedded broker) implement it
 * with the same observable semantics; the contract suite in test/transport runs against both.
 *
 * Conventions, as in Kafka itself:
 * - offsets and timestamps are numbers (int64 on the wire; safe up to 2^53, far beyond any real log);
 * - a committed offset is the offset of the NEXT record to read, never the last one processed;
 * - timestamps are milliseconds since the epoch.
 */

/** Record headers, in order. Kafka allows a key to appear more than once, so this is a list. */
export type Headers = Array<[string, Buffer]>

export interface TopicPartition {
  topic: string
  partition: number
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: number
}

export interface ProducerRecord {
  topic: string
  /** Null or absent: the producer spreads records over partitions. */
  key?: Buffer | null
  /** Null is a tombstone (deletes the key in a compacted topic). */
  value: Buffer | null
  headers?: Headers
  /** Absent: chosen from the key with Kafka's default partitioner (murmur2), the same on every transport. */
  partition?: number
  /** CreateTime in ms. Absent: now. Replaced by the broker's time on LogAppendTime topics. */
  timestamp?: number
}

export interface RecordMetadata {
  topic: string
  partition: number
  offset: number
}

export interface ConsumedRecord {
  topic: string
  partition: number
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: Headers
}

export type Acks = 0 | 1 | 'all'
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

export interface ProducerOptions {
  /** @default 'tributary' */
  clientId?: string
  /** @default 'all' */
  acks?: Acks
  /** @default 'none' */
  compression?: Compression
  /**
   * Idempotent delivery (no duplicates from producer retries, per-partition order kept).
   * Requires acks 'all'. @default true when acks is 'all'
   */
  idempotent?: boolean
  /** Enables transactions. A second producer with the same id fences the first. */
  transactionalId?: string
}

export interface Producer {
  /** Sends records and resolves once the broker acknowledged all of them (per `acks`). */
  send(records: ProducerRecord[]): Promise<RecordMetadata[]>
  /** Starts a transaction; only one may be open per producer. Needs `transactionalId`. */
  beginTransaction(): Promise<Transaction>
  close(): Promise<void>
}

export interface Transaction {
  send(records: ProducerRecord[]): Promise<RecordMetadata[]>
  /**
   * Adds the consumer's offsets to the transaction, so that they are committed atomically with the
   * records (exactly-once consume-transform-produce). The consumer must be a group member.
   */
  sendOffsets(consumer: Consumer, offsets: TopicPartitionOffset[]): Promise<void>
  commit(): Promise<void>
  abort(): Promise<void>
}

export type IsolationLevel = 'read_uncommitted' | 'read_committed'
/** Where to start when there is no committed offset (or it is out of range). */
export type OffsetReset = 'earliest' | 'latest' | 'none'

export interface ConsumerOptions {
  /** Consumer group. Required for `subscribe` and `commit`; `assign` works with or without one. */
  groupId?: string
  /** @default 'tributary' */
  clientId?: string
  /** @default 'read_uncommitted' */
  isolationLevel?: IsolationLevel
  /** @default 'latest' */
  offsetReset?: OffsetReset
  /** @default 10000 */
  sessionTimeoutMs?: number
  /** @default 3000 */
  heartbeatIntervalMs?: number
  /** How long a poll may wait on the broker for data. @default 500 */
  maxWaitMs?: number
}

export interface RebalanceListener {
  /** Called after partitions were assigned to this member, before any record of them is returned. */
  onAssigned?(partitions: TopicPartition[]): void | Promise<void>
  /**
   * Called when partitions are taken away, before another member gets them: the partitions are
   * still ours during the call, so a commit made here is accepted and the new owner starts from it.
   * Records of them still buffered are dropped; after the call, a commit for them is refused
   * (code REBALANCE). Both transports move only the partitions that change owner (cooperative).
   */
  onRevoked?(partitions: TopicPartition[]): void | Promise<void>
  /**
   * Called as soon as this member learns that the group is rebalancing, before any partition moves.
   * Not awaited; a chance to commit early (onRevoked remains the place that must commit).
   */
  onRebalanceStarting?(): void
}

/** Where `assign` starts reading a partition. */
export type StartOffset = number | 'earliest' | 'latest' | 'committed' | { timestamp: number }

export interface PartitionStart extends TopicPartition {
  /** @default 'committed' with a group, else 'latest' */
  from?: StartOffset
}

export interface PollOptions {
  /** Resolve with an empty list when nothing arrived in this time. @default 1000 */
  timeoutMs?: number
  /** @default 10000 */
  maxRecords?: number
}

export interface Consumer {
  readonly groupId: string | undefined
  /** Joins the group and consumes whatever partitions of these topics the group assigns to us. */
  subscribe(topics: string[], listener?: RebalanceListener): Promise<void>
  /** Consumes exactly these partitions, with no group membership. */
  assign(partitions: PartitionStart[]): Promise<void>
  /** Returns the next records, in offset order per partition; empty when `timeoutMs` passed. */
  poll(options?: PollOptions): Promise<ConsumedRecord[]>
  /** Commits next-offsets for the group. Refused (code REBALANCE) for partitions not assigned to us. */
  commit(offsets: TopicPartitionOffset[]): Promise<void>
  /** The group's committed next-offsets for these partitions (absent when none). */
  committed(partitions: TopicPartition[]): Promise<TopicPartitionOffset[]>
  /** Moves the read position of an assigned partition. */
  seek(position: TopicPartitionOffset): void
  /** The partitions currently assigned to this consumer. */
  assignment(): TopicPartition[]
  /** Leaves the group (its partitions move to the other members at once) and releases resources. */
  close(): Promise<void>
}

export interface NewTopic {
  topic: string
  /** @default 1 */
  partitions?: number
  /** @default 1 */
  replicationFactor?: number
  /** Topic configs such as retention.ms, cleanup.policy, message.timestamp.type. */
  configs?: Record<string, string>
}

export interface PartitionInfo {
  partition: number
  leader: number
  replicas: number[]
  isr: number[]
}

export interface TopicDescription {
  topic: string
  partitions: PartitionInfo[]
}

export interface ConfigEntry {
  name: string
  value: string | null
  /** True when the value is the broker's default rather than set on the topic. */
  isDefault: boolean
  readOnly: boolean
  sensitive: boolean
}

export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number }

export interface GroupListing {
  groupId: string
  state: string
}

export interface GroupMember {
  memberId: string
  clientId: string
  host: string
  assignment: TopicPartition[]
}

export interface GroupDescription {
  groupId: string
  /** Kafka's group state: Empty, Stable, PreparingRebalance, CompletingRebalance, Dead. */
  state: string
  members: GroupMember[]
}

export interface Admin {
  createTopics(topics: NewTopic[]): Promise<void>
  deleteTopics(topics: string[]): Promise<void>
  /** Topic names, sorted; internal topics (`__consumer_offsets`, ...) only when asked. */
  listTopics(options?: { includeInternal?: boolean }): Promise<string[]>
  describeTopics(topics: string[]): Promise<TopicDescription[]>
  describeConfigs(topic: string): Promise<ConfigEntry[]>
  /** Sets and removes topic configs (incrementally: configs not named stay as they are). */
  alterConfigs(topic: string, changes: { set?: Record<string, string>; remove?: string[] }): Promise<void>
  /** Grows a topic to `totalCount` partitions; Kafka cannot shrink a topic. */
  createPartitions(topic: string, totalCount: number): Promise<void>
  /** Per partition: the first offset, the log end offset, or the first offset at/after a timestamp. */
  listOffsets(topic: string, spec: OffsetSpec): Promise<TopicPartitionOffset[]>
  listGroups(): Promise<GroupListing[]>
  describeGroup(groupId: string): Promise<GroupDescription>
  /** The group's committed next-offsets, for every partition it committed. */
  listGroupOffsets(groupId: string): Promise<TopicPartitionOffset[]>
  deleteGroup(groupId: string): Promise<void>
  close(): Promise<void>
}

/** SASL mechanisms spoken on `kafka://`. */
export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

export interface ConnectionOptions {
  /** TLS to the brokers: true, or Node's tls.connect options (ca, cert, key, servername, ...). */
  tls?: boolean | Record<string, unknown>
  sasl?: { mechanism: SaslMechanism; username: string; password: string }
  /** How long to wait for a broker to answer a connection before failing. @default 10000 */
  connectTimeoutMs?: number
  /** How long one request may take. @default 30000 */
  requestTimeoutMs?: number
}

/** A connection to a cluster (or to the embedded broker). Clients made from it share its settings. */
export interface Transport {
  /** The URL it was opened with, credentials removed. */
  readonly url: string
  admin(): Admin
  producer(options?: ProducerOptions): Producer
  consumer(options?: ConsumerOptions): Consumer
  /** Closes every client made from this transport. */
  close(): Promise<void>
}
