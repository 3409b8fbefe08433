/**
 * The wire format of what group members tell each other through the coordinator: Kafka's
 * ConsumerProtocolSubscription v2 and ConsumerProtocolAssignment v0, so tools that decode consumer
 * groups read ours too. The assignor itself is a GroupAssignor (src/transport/group), run by the
 * leader in group-join.ts; these codecs carry its user data byte for byte.
 *
 *   Subscription v2 => version:int16 [topic:string] user_data:nullable_bytes
 *                      [owned: topic:string [partition:int32]] generation_id:int32
 *   Assignment v0   => version:int16 [topic:string [partition:int32]] user_data:nullable_bytes
 *
 * (KIP-429 added owned partitions in v1; KIP-792 the generation of those partitions in v2.)
 */
import type { TopicPartition } from '../types.js'
import { partitionsByTopic } from '../by-topic.js'

export interface Subscription {
  topics: string[]
  owned: TopicPartition[]
  /** The generation in which the member got `owned`; -1 when it owns nothing. */
  generation: number
  /** The assignor's user data, as it gave it. */
  userData: Buffer | null
}

export interface Assignment {
  partitions: TopicPartition[]
  userData: Buffer | null
}

class Out {
  readonly #parts: Buffer[] = []
  int16(v: number): this {
    const b = Buffer.alloc(2)
    b.writeInt16BE(v)
    this.#parts.push(b)
    return this
  }
  int32(v: number): this {
    const b = Buffer.alloc(4)
    b.writeInt32BE(v)
    this.#parts.push(b)
    return this
  }
  string(s: string): this {
    const bytes = Buffer.from(s, 'utf8')
    this.int16(bytes.length)
    this.#parts.push(bytes)
    return this
  }
  bytes(b: Buffer | null): this {
    if (b === null) return this.int32(-1)
    this.int32(b.length)
    this.#parts.push(b)
    return this
  }
  get buffer(): Buffer {
    return Buffer.concat(this.#parts)
  }
}

class In {
  #at = 0
  constructor(readonly buffer: Buffer) {}
  get remaining(): number {
    return this.buffer.length - this.#at
  }
  int16(): number {
    const v = this.buffer.readInt16BE(this.#at)
    this.#at += 2
    return v
  }
  int32(): number {
    const v = this.buffer.readInt32BE(this.#at)
    this.#at += 4
    return v
  }
  string(): string {
    const length = this.int16()
    const s = this.buffer.toString('utf8', this.#at, this.#at + length)
    this.#at += length
    return s
  }
  /** A copy: the user data outlives the response buffer it came in. */
  bytes(): Buffer | null {
    const length = this.int32()
    if (length < 0) return null
    const b = Buffer.from(this.buffer.subarray(this.#at, this.#at + length))
    this.#at += length
    return b
  }
}

function writePartitions(out: Out, partitions: TopicPartition[]): void {
  const topics = partitionsByTopic(partitions)
  out.int32(topics.length)
  for (const [topic, list] of topics) {
    out.string(topic).int32(list.length)
    for (const p of list) out.int32(p)
  }
}

function readPartitions(input: In): TopicPartition[] {
  const partitions: TopicPartition[] = []
  const topics = input.int32()
  for (let t = 0; t < topics; t++) {
    const topic = input.string()
    const count = input.int32()
    for (let i = 0; i < count; i++) partitions.push({ topic, partition: input.int32() })
  }
  return partitions
}

/**
 * Subscription v2. `nonce`, when given, follows the v2 fields: a follower's JoinGroup starts a
 * rebalance only when its metadata bytes differ from what it sent before (a follower with the same
 * metadata is handed the current generation), so enforceRebalance makes them differ. Kafka's
 * readers decode a subscription up to the fields of its version and ignore what follows (that is
 * how a newer version stays readable by older members), so the nonce is invisible to every reader.
 */
export function encodeSubscription(subscription: Subscription, nonce?: number): Buffer {
  const out = new Out().int16(2).int32(subscription.topics.length)
  for (const topic of [...subscription.topics].sort()) out.string(topic)
  out.bytes(subscription.userData)
  writePartitions(out, subscription.owned)
  out.int32(subscription.generation)
  if (nonce !== undefined) out.int32(nonce)
  return out.buffer
}

/** Any version: v0 has no owned partitions, v0 and v1 no generation; later versions are read as v2. */
export function decodeSubscription(buffer: Buffer | null): Subscription {
  const empty: Subscription = { topics: [], owned: [], generation: -1, userData: null }
  if (!buffer || buffer.length < 2) return empty
  const input = new In(buffer)
  const version = input.int16()
  const topics: string[] = []
  const count = input.int32()
  for (let i = 0; i < count; i++) topics.push(input.string())
  const userData = input.bytes()
  const owned = version >= 1 && input.remaining >= 4 ? readPartitions(input) : []
  const generation = version >= 2 && input.remaining >= 4 ? input.int32() : -1
  return { topics, owned, generation, userData }
}

/**
 * Assignment v0. Null user data goes out as empty bytes and empty bytes come back as null:
 * platformatic's describeGroups (our Admin.describeGroup) reads this field as a compact length,
 * which a null (-1) would break. So an assignor's empty user data reads back as null.
 */
export function encodeAssignment(assignment: Assignment): Buffer {
  const out = new Out().int16(0)
  writePartitions(out, assignment.partitions)
  return out.bytes(assignment.userData ?? Buffer.alloc(0)).buffer
}

export function decodeAssignment(buffer: Buffer | null): Assignment {
  if (!buffer || buffer.length < 6) return { partitions: [], userData: null }
  const input = new In(buffer)
  input.int16()
  const partitions = readPartitions(input)
  const userData = input.remaining >= 4 ? input.bytes() : null
  return { partitions, userData: userData && userData.length > 0 ? userData : null }
}
