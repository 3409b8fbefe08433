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
  /**
   * Null is a tombstone (deletes the key in a compacted topic). A string is sent as its UTF-8
   * bytes, written straight into the record batch (no Buffer in between).
   */
  value: Buffer | string | null
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
  /**
   * How long a transaction may stay open from its first send before the broker aborts it and
   * fences this producer (Kafka's transaction.timeout.ms). @default 10000
   */
  transactionTimeoutMs?: number
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
  /**
   * Static membership (KIP-345): a member that restarts with the same instance id within the
   * session timeout gets its partitions back without a rebalance. @default none (dynamic member)
   */
  groupInstanceId?: string
  /**
   * Records fetched ahead of `poll` per partition before the consumer stops fetching that
   * partition (a slow partition does not stall the others). @default 2000
   */
  maxBufferedRecordsPerPartition?: number
}

/**
 * What a member tells the group when it joins (Kafka's ConsumerProtocolSubscription): the topics,
 * what it owns now (cooperative protocol) and the assignor's user data.
 */
export interface MemberSubscription {
  memberId: string
  /** The member's `groupInstanceId` when it is a static member. */
  instanceId?: string
  topics: string[]
  /** The partitions the member owns now. */
  owned: TopicPartition[]
  /** The generation in which it got `owned`; -1 when it owns nothing. */
  generation: number
  /** What the member's `GroupAssignor.userData()` returned. */
  userData: Buffer | null
}

/** One member's share of a generation: its partitions and what the leader's assignor tells it. */
export interface MemberAssignment {
  partitions: TopicPartition[]
  userData: Buffer | null
}

/**
 * A group assignor, run by the leader member on both transports (the broker only relays). The
 * transport makes any answer cooperative: a partition the plan moves from its live owner to
 * another member is given to nobody in this generation; its owner revokes it (onRevoked commits),
 * rejoins, and the next generation hands it over (KIP-429). Assignors need not care.
 */
export interface GroupAssignor {
  /** The protocol name members agree on in JoinGroup (all members of a group must use one). */
  readonly name: string
  /** This member's subscription user data, asked each time it joins. @default null */
  userData?(): Buffer | null
  /**
   * Every member's share. `partitionCounts` holds each subscribed topic's partition count (0: the
   * topic is gone). A member absent from the answer gets nothing.
   */
  assign(
    members: readonly MemberSubscription[],
    partitionCounts: ReadonlyMap<string, number>,
  ): Map<string, MemberAssignment>
}

export interface SubscribeOptions {
  /** @default a balanced, sticky topic-partition assignor */
  assignor?: GroupAssignor
}

/** The generation this member joined, with what the leader's assignor gave it. */
export interface GenerationInfo {
  generation: number
  memberId: string
  leader: boolean
  /** Everything assigned to us in this generation (kept, added; not what is withheld for a hand-over). */
  assignment: MemberAssignment
}

export interface RebalanceListener {
  /** Called after partitions were assigned to this member, before any record of them is returned. */
  onAssigned?(partitions: TopicPartition[]): void | Promise<void>
  /**
   * Called once per generation this member joined, before onRevoked/onAssigned of that
   * generation, with the assignor's user data (host maps and such).
   */
  onGeneration?(info: GenerationInfo): void | Promise<void>
  /**
   * Called instead of onRevoked when the membership itself was lost (session expired, fenced):
   * another member may own the partitions already, so nothing may be committed for them.
   * @default onRevoked (whose commits are then refused)
   */
  onLost?(partitions: TopicPartition[]): void | Promise<void>
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

/** What the last fetch response said of a partition. */
export interface Watermarks {
  /** The log end offset (offset of the next record to be written). */
  highWatermark: number
  /** The first offset of a still-open transaction, or the high watermark when none is open. */
  lastStableOffset: number
}

export interface Consumer {
  readonly groupId: string | undefined
  /** Joins the group and consumes whatever partitions of these topics the group assigns to us. */
  subscribe(topics: string[], listener?: RebalanceListener, options?: SubscribeOptions): Promise<void>
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
  /**
   * Stops fetching these assigned partitions (records already buffered for them are kept and
   * returned after resume). Membership is not affected. Unknown partitions are ignored.
   */
  pause(partitions: TopicPartition[]): void
  resume(partitions: TopicPartition[]): void
  paused(): TopicPartition[]
  /** The offset of the next record `poll` returns for this partition (undefined: not known yet). */
  position(partition: TopicPartition): number | undefined
  /** The high watermark and last stable offset from the latest fetch of this partition. */
  watermarks(partition: TopicPartition): Watermarks | undefined
  /**
   * Asks the group for a new rebalance (Kafka's enforceRebalance), e.g. when the user data a
   * member advertises changed. A no-op without a subscription.
   */
  enforceRebalance(reason?: string): void
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

export type ConfigSource =
  'topic' | 'dynamic-broker' | 'dynamic-default-broker' | 'static-broker' | 'default' | 'unknown'

export interface ConfigEntry {
  name: string
  value: string | null
  /** True when the value is the broker's default rather than set on the topic. */
  isDefault: boolean
  /** Where the value comes from: topic, dynamic-broker, dynamic-default-broker, static-broker, default. */
  source: ConfigSource
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
  /** The partition assignor the members agreed on ('' when the group has no members). */
  assignor: string
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
  /**
   * Per partition: the first offset, the log end offset, or the first offset at/after a timestamp.
   * Under read_committed, 'latest' is the last stable offset. @default isolation read_uncommitted
   */
  listOffsets(
    topic: string,
    spec: OffsetSpec,
    options?: { isolationLevel?: IsolationLevel },
  ): Promise<TopicPartitionOffset[]>
  listGroups(): Promise<GroupListing[]>
  describeGroup(groupId: string): Promise<GroupDescription>
  /**
   * The group's committed next-offsets, for every partition it committed. Read stable by default:
   * offsets that an open transaction holds are waited for (up to 65 s, past a producer's default
   * transaction timeout). `stable: false` answers at once with the offsets committed so far.
   */
  listGroupOffsets(groupId: string, options?: { stable?: boolean }): Promise<TopicPartitionOffset[]>
  /** Refused with GROUP_NOT_EMPTY while the group has live members (Kafka's NON_EMPTY_GROUP). */
  deleteGroup(groupId: string): Promise<void>
  /**
   * Commits offsets for the group from outside it, creating the group when it does not exist. Kafka
   * takes such a commit only while the group has no live members: GROUP_NOT_EMPTY otherwise.
   */
  alterGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void>
  /**
   * Forgets the group's committed offsets of these partitions. Refused with GROUP_NOT_EMPTY for a topic
   * the group's live members subscribe to (Kafka's GROUP_SUBSCRIBED_TO_TOPIC).
   */
  deleteGroupOffsets(groupId: string, partitions: TopicPartition[]): Promise<void>
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
