/**
 * The group's partition assignor, run by the leader member, and the wire format of what members
 * tell each other through the coordinator (Kafka's ConsumerProtocolSubscription v1 and
 * ConsumerProtocolAssignment v0, so tools that decode consumer groups read our groups too).
 *
 * Cooperative and sticky, as Kafka's CooperativeStickyAssignor (KIP-429):
 * - every member says which partitions it owns (and since which generation) when it joins;
 * - the assignment is balanced (member counts differ by at most one where subscriptions allow) and
 *   moves as few partitions as possible: a partition stays with its owner unless that owner has
 *   more than its share;
 * - a partition that must move from a live owner to another member is handed to NOBODY in this
 *   generation. Its owner, whose new assignment lacks it, revokes it (onRevoked: the app commits
 *   under the generation it is still a member of) and then joins again; the next generation gives
 *   it to its new owner, which then starts exactly at what the old owner committed.
 */
import type { TopicPartition } from '../types.js'

/** The protocol name members agree on in JoinGroup. */
export const PROTOCOL_NAME = 'tributary-cooperative-sticky'

export interface Subscription {
  topics: string[]
  owned: TopicPartition[]
  /** The generation in which the member got `owned`; -1 when it owns nothing. */
  generation: number
}

export interface Member extends Subscription {
  memberId: string
}

const key = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`

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
  bytes(): Buffer | null {
    const length = this.int32()
    if (length < 0) return null
    const b = this.buffer.subarray(this.#at, this.#at + length)
    this.#at += length
    return b
  }
}

function groupByTopic(partitions: TopicPartition[]): Array<[string, number[]]> {
  const topics = new Map<string, number[]>()
  for (const { topic, partition } of partitions) {
    const list = topics.get(topic)
    if (list) list.push(partition)
    else topics.set(topic, [partition])
  }
  return [...topics]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([t, ps]) => [t, ps.sort((a, b) => a - b)])
}

function writePartitions(out: Out, partitions: TopicPartition[]): void {
  const topics = groupByTopic(partitions)
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

/** ConsumerProtocolSubscription v1: topics, user data (our generation), owned partitions. */
export function encodeSubscription(subscription: Subscription): Buffer {
  const out = new Out().int16(1).int32(subscription.topics.length)
  for (const topic of [...subscription.topics].sort()) out.string(topic)
  out.bytes(new Out().int32(subscription.generation).buffer)
  writePartitions(out, subscription.owned)
  return out.buffer
}

export function decodeSubscription(buffer: Buffer | null): Subscription {
  if (!buffer || buffer.length < 2) return { topics: [], owned: [], generation: -1 }
  const input = new In(buffer)
  const version = input.int16()
  const topics: string[] = []
  const count = input.int32()
  for (let i = 0; i < count; i++) topics.push(input.string())
  const userData = input.bytes()
  const generation = userData && userData.length >= 4 ? userData.readInt32BE(0) : -1
  const owned = version >= 1 && input.remaining >= 4 ? readPartitions(input) : []
  return { topics, owned, generation }
}

/** ConsumerProtocolAssignment v0: the assigned partitions, empty user data. */
export function encodeAssignment(partitions: TopicPartition[]): Buffer {
  const out = new Out().int16(0)
  writePartitions(out, partitions)
  // Empty rather than null: platformatic's describeGroups reads this field as a compact (varint) length.
  return out.bytes(Buffer.alloc(0)).buffer
}

export function decodeAssignment(buffer: Buffer | null): TopicPartition[] {
  if (!buffer || buffer.length < 6) return []
  const input = new In(buffer)
  input.int16()
  return readPartitions(input)
}

/**
 * What each member gets in this generation (see the file comment). `partitionCounts` holds the
 * partition count of every topic some member subscribed to (0 or absent: the topic is gone).
 */
export function assign(
  members: Member[],
  partitionCounts: Map<string, number>,
): Map<string, TopicPartition[]> {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
  const subscribed = new Map(sorted.map((m) => [m.memberId, new Set(m.topics)]))
  const eligible = (memberId: string, tp: TopicPartition): boolean =>
    subscribed.get(memberId)?.has(tp.topic) === true

  // Who owns what now: a partition claimed twice (only after a lost membership) goes to the newest claim.
  const owner = new Map<string, { memberId: string; generation: number }>()
  for (const m of sorted) {
    for (const tp of m.owned) {
      const current = owner.get(key(tp))
      if (!current || m.generation > current.generation)
        owner.set(key(tp), { memberId: m.memberId, generation: m.generation })
    }
  }

  const all: TopicPartition[] = []
  for (const topic of [...partitionCounts.keys()].sort()) {
    for (let partition = 0; partition < (partitionCounts.get(topic) ?? 0); partition++)
      all.push({ topic, partition })
  }
  const target = new Map<string, TopicPartition[]>(sorted.map((m) => [m.memberId, []]))
  const unowned: TopicPartition[] = []
  for (const tp of all) {
    const o = owner.get(key(tp))
    if (o && eligible(o.memberId, tp)) target.get(o.memberId)!.push(tp)
    else unowned.push(tp)
  }
  const fewest = (tp: TopicPartition): string | undefined => {
    let best: string | undefined
    for (const m of sorted) {
      if (!eligible(m.memberId, tp)) continue
      if (best === undefined || target.get(m.memberId)!.length < target.get(best)!.length) best = m.memberId
    }
    return best
  }
  for (const tp of unowned) {
    const to = fewest(tp)
    if (to !== undefined) target.get(to)!.push(tp)
  }
  // Balance: move from a member with at least two more than another that could take one. Each move
  // lowers the sum of squared counts, so this ends. Partitions just handed out move first.
  for (let moved = true; moved;) {
    moved = false
    const byCount = [...sorted].sort(
      (a, b) => target.get(b.memberId)!.length - target.get(a.memberId)!.length,
    )
    outer: for (const from of byCount) {
      const list = target.get(from.memberId)!
      const candidates = [
        ...list.filter((tp) => owner.get(key(tp))?.memberId !== from.memberId),
        ...list.filter((tp) => owner.get(key(tp))?.memberId === from.memberId).reverse(),
      ]
      for (const tp of candidates) {
        for (const to of [...byCount].reverse()) {
          if (to === from || !eligible(to.memberId, tp)) continue
          if (target.get(to.memberId)!.length + 2 > list.length) continue
          list.splice(list.indexOf(tp), 1)
          target.get(to.memberId)!.push(tp)
          moved = true
          break outer
        }
      }
    }
  }
  // Cooperative: a partition moving away from a live owner goes to nobody until that owner revoked it.
  const result = new Map<string, TopicPartition[]>()
  for (const [memberId, list] of target) {
    result.set(
      memberId,
      list.filter((tp) => {
        const o = owner.get(key(tp))
        return !o || o.memberId === memberId
      }),
    )
  }
  return result
}
