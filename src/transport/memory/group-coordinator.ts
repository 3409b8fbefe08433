/**
 * A consumer group on the embedded broker: members, generations, assignment and committed offsets.
 *
 * Safety, as Kafka's cooperative protocol gives it: a partition moves to its new owner only after the
 * old owner released it (ran onRevoked at its next poll or close, so it could commit its final
 * offsets) or after the old owner's session timed out. Until then the old owner still owns it and may
 * commit it; afterwards a commit of it is refused, since the new owner may already be reading it.
 */
import { randomUUID } from 'node:crypto'
import { coordinates, TributaryError } from '../../errors.js'
import type { TopicPartition, TopicPartitionOffset } from '../types.js'
import { assignPartitions } from './assignor.js'
import { sortedTps, tpKey } from './util.js'

export class Member {
  /** What the latest assignment gives this member. */
  readonly target = new Map<string, TopicPartition>()
  /** What it holds now: claimed, not yet released. Commits are accepted for these only. */
  readonly owned = new Map<string, TopicPartition>()
  /** True while the member is inside poll() (running callbacks or waiting): alive whatever its last poll. */
  busy = false
  lastSeen = Date.now()
  /** Why it is no longer a member; its consumer rejoins under a new member id at its next poll. */
  gone: 'left' | 'evicted' | undefined

  constructor(
    readonly group: Group,
    readonly id: string,
    readonly clientId: string,
    public topics: Set<string>,
    readonly sessionTimeoutMs: number,
    readonly wake: () => void,
  ) {}
}

export class Group {
  readonly members = new Map<string, Member>()
  generation = 0
  readonly offsets = new Map<string, TopicPartitionOffset>()
  /** Open transactions holding offsets for a partition: it is not handed over until they end (require_stable). */
  readonly pendingTxnOffsets = new Map<string, number>()
  private readonly owners = new Map<string, Member>()
  private timer: NodeJS.Timeout | undefined
  private timerDeadline = Infinity
  private stopped = false

  constructor(
    readonly id: string,
    /** Partition counts of the existing topics. */
    private readonly catalog: () => ReadonlyMap<string, number>,
  ) {}

  join(clientId: string, topics: readonly string[], sessionTimeoutMs: number, wake: () => void): Member {
    const member = new Member(
      this,
      `${clientId}-${randomUUID()}`,
      clientId,
      new Set(topics),
      sessionTimeoutMs,
      wake,
    )
    this.members.set(member.id, member)
    this.rebalance()
    this.armExpiry()
    return member
  }

  resubscribe(member: Member, topics: readonly string[]): void {
    member.topics = new Set(topics)
    this.rebalance()
  }

  /** Removes a member (close, or session timeout): its partitions are free at once. */
  leave(member: Member, reason: 'left' | 'evicted'): void {
    if (member.gone) return
    member.gone = reason
    this.members.delete(member.id)
    for (const key of member.owned.keys()) this.owners.delete(key)
    member.owned.clear()
    member.target.clear()
    this.rebalance()
    member.wake()
  }

  /** A new generation: recomputes every member's target assignment and wakes the members to reconcile. */
  rebalance(): void {
    this.generation++
    const plan = assignPartitions(
      [...this.members.values()].map((m) => ({
        id: m.id,
        topics: m.topics,
        previous: new Set(m.target.keys()),
      })),
      this.catalog(),
    )
    for (const member of this.members.values()) {
      member.target.clear()
      for (const tp of plan.get(member.id) ?? []) member.target.set(tpKey(tp.topic, tp.partition), tp)
    }
    this.wakeAll()
  }

  /** A topic was created, grown or deleted. A deleted topic's committed offsets go with it, as in Kafka. */
  topicChanged(topic: string, deleted: boolean): void {
    if (deleted) for (const [key, tpo] of this.offsets) if (tpo.topic === topic) this.offsets.delete(key)
    if ([...this.members.values()].some((member) => member.topics.has(topic))) this.rebalance()
  }

  /** Owned partitions the latest assignment moved away: the member must run onRevoked, then release them. */
  revocations(member: Member): TopicPartition[] {
    return sortedTps([...member.owned].filter(([key]) => !member.target.has(key)).map(([, tp]) => tp))
  }

  release(member: Member, partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) {
      const key = tpKey(tp.topic, tp.partition)
      if (member.owned.delete(key) && this.owners.get(key) === member) this.owners.delete(key)
    }
    this.wakeAll()
  }

  /** Takes the targeted partitions that are free now; the member then runs onAssigned for them. */
  claim(member: Member): TopicPartition[] {
    if (member.gone) return []
    const claimed: TopicPartition[] = []
    for (const [key, tp] of member.target) {
      if (member.owned.has(key) || this.owners.has(key) || this.pendingTxnOffsets.has(key)) continue
      member.owned.set(key, tp)
      this.owners.set(key, member)
      claimed.push(tp)
    }
    return sortedTps(claimed)
  }

  /** Marks a member inside or outside poll(); leaving poll starts its session timeout. */
  setBusy(member: Member, busy: boolean): void {
    member.busy = busy
    member.lastSeen = Date.now()
    if (!busy) this.armExpiry()
  }

  /** Evicts members that have not polled for their session timeout. */
  expire(now = Date.now()): void {
    for (const member of [...this.members.values()]) {
      if (!member.busy && now - member.lastSeen > member.sessionTimeoutMs) this.leave(member, 'evicted')
    }
  }

  /** One unref'd timer per group, armed for the earliest session deadline: it never keeps the process alive. */
  private armExpiry(): void {
    if (this.stopped) return
    let deadline = Infinity
    for (const m of this.members.values())
      if (!m.busy) deadline = Math.min(deadline, m.lastSeen + m.sessionTimeoutMs)
    if (deadline === Infinity || deadline >= this.timerDeadline) return
    clearTimeout(this.timer)
    this.timerDeadline = deadline
    this.timer = setTimeout(
      () => {
        this.timer = undefined
        this.timerDeadline = Infinity
        this.expire()
        this.armExpiry()
      },
      Math.max(0, deadline - Date.now()) + 1,
    )
    this.timer.unref()
  }

  /** Kafka's group states as this broker can be in them. */
  get state(): 'Empty' | 'PreparingRebalance' | 'Stable' {
    if (this.members.size === 0) return 'Empty'
    for (const member of this.members.values()) {
      if (member.owned.size !== member.target.size) return 'PreparingRebalance'
      for (const key of member.target.keys()) if (!member.owned.has(key)) return 'PreparingRebalance'
    }
    return 'Stable'
  }

  /** Refuses (REBALANCE) unless the member still owns every partition; a commit also proves it alive. */
  checkOwned(member: Member, partitions: readonly TopicPartition[]): void {
    if (member.gone) {
      const why =
        member.gone === 'evicted'
          ? `its session timed out (${member.sessionTimeoutMs} ms without a poll)`
          : 'it left'
      throw new TributaryError('REBALANCE', `Member ${member.id} is no longer in group ${this.id}: ${why}`)
    }
    member.lastSeen = Date.now()
    for (const { topic, partition } of partitions) {
      if (!member.owned.has(tpKey(topic, partition))) {
        throw new TributaryError(
          'REBALANCE',
          `Cannot commit ${coordinates(topic, partition)} for group ${this.id}: the partition is not assigned to this member (generation ${this.generation})`,
          { topic, partition },
        )
      }
    }
  }

  /** A consumer outside group management may commit only while the group has no members (as in Kafka). */
  checkStandalone(): void {
    if (this.members.size > 0) {
      throw new TributaryError(
        'REBALANCE',
        `Group ${this.id} has ${this.members.size} active member(s); a consumer that did not join it cannot commit its offsets`,
      )
    }
  }

  store(offsets: readonly TopicPartitionOffset[]): void {
    for (const { topic, partition, offset } of offsets)
      this.offsets.set(tpKey(topic, partition), { topic, partition, offset })
  }

  committed(topic: string, partition: number): number | undefined {
    return this.offsets.get(tpKey(topic, partition))?.offset
  }

  wakeAll(): void {
    for (const member of this.members.values()) member.wake()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }
}
