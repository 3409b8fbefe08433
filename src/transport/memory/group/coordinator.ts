/**
 * A consumer group on the embedded broker: members, generations and committed offsets. The broker
 * assigns nothing itself: as in Kafka, the leader member's assignor plans each generation (see
 * generation.ts) and the group only relays the plan.
 *
 * Safety, as Kafka's cooperative protocol gives it: a partition moves to its new owner only after
 * the old owner released it (ran onRevoked at its next poll or close, so it could commit its final
 * offsets) or after the old owner's membership ended (left, evicted, fenced). Until then the old owner
 * still owns it and may commit it; afterwards a commit of it is refused, since the new owner may be
 * reading it.
 *
 * Generations are formed lazily: a change (join, leave, eviction, new partitions, enforceRebalance,
 * a revocation that frees a withheld partition) marks the group as rebalancing, and the generation is
 * formed on the next turn of the event loop or at the next poll of any member, whichever comes
 * first. So members that join together share one generation, and an assignor never runs inside
 * another member's call.
 */
import { randomUUID } from 'node:crypto'
import { coordinates, TributaryError } from '../../../errors.js'
import type { GroupAssignor, TopicPartition, TopicPartitionOffset } from '../../types.js'
import { formGeneration } from './generation.js'
import { Member, type GoneReason, type JoinRequest } from './member.js'
import { SessionTimer } from './session-timer.js'
import { sortedTps, tpKey } from '../util.js'

export class Group {
  /** In join order (a static member's replacement takes the old member's place). */
  readonly members = new Map<string, Member>()
  generation = 0
  readonly offsets = new Map<string, TopicPartitionOffset>()
  /** Open transactions holding offsets for a partition: it is not handed over until they end (require_stable). */
  readonly pendingTxnOffsets = new Map<string, number>()
  private readonly owners = new Map<string, Member>()
  /** Partitions the current generation gives to nobody until their owner revoked them. */
  private withheld = new Set<string>()
  /** A new generation must be formed. */
  private rebalancing = false
  private scheduled: NodeJS.Immediate | undefined
  private seq = 0
  private readonly sessions: SessionTimer
  private stopped = false

  constructor(
    readonly id: string,
    /** Partition counts of the existing topics. */
    private readonly catalog: () => ReadonlyMap<string, number>,
  ) {
    this.sessions = new SessionTimer(() => this.expire())
  }

  /**
   * JoinGroup. A static member whose instance id is already in the group replaces that member, which
   * is fenced: the newcomer takes its place and its assignment, and nothing moves (KIP-345).
   */
  join(request: JoinRequest): Member {
    const replaced = [...this.members.values()].find(
      (m) => request.instanceId !== undefined && m.instanceId === request.instanceId,
    )
    this.checkProtocol(request.assignor, replaced)
    const member = new Member(`${request.clientId}-${randomUUID()}`, replaced?.seq ?? this.seq++, request)
    if (!replaced) {
      this.members.set(member.id, member)
      this.requestRebalance()
    } else {
      // Rebuilt in order, so that the newcomer keeps the old member's place (and leadership).
      const rest = [...this.members.values()]
      this.members.clear()
      for (const m of rest) this.members.set(m === replaced ? member.id : m.id, m === replaced ? member : m)
      for (const [key, tp] of replaced.target) member.target.set(key, tp)
      member.generation = replaced.generation
      member.leader = replaced.leader
      member.userData = replaced.userData
      const topicsChanged =
        replaced.topics.size !== member.topics.size || [...member.topics].some((t) => !replaced.topics.has(t))
      this.remove(replaced, 'fenced')
      if (topicsChanged) this.requestRebalance()
    }
    this.sessions.arm(this.members.values())
    return member
  }

  resubscribe(member: Member, topics: readonly string[], assignor: GroupAssignor): void {
    this.checkProtocol(assignor, member)
    member.topics = new Set(topics)
    member.assignor = assignor
    this.requestRebalance()
  }

  /** LeaveGroup (close) or the end of a session: the member's partitions are free at once. */
  leave(member: Member, reason: GoneReason): void {
    if (member.gone) return
    this.members.delete(member.id)
    this.remove(member, reason)
    if (this.members.size === 0) this.withheld.clear()
    else this.requestRebalance()
  }

  /** Asks for a new generation (formed soon, or at the next poll of a member). */
  requestRebalance(): void {
    if (this.stopped) return
    this.rebalancing = true
    if (this.scheduled) return
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined
      this.settle()
    })
    this.scheduled.unref()
  }

  /** Forms the pending generation now, if one is pending. */
  settle(): void {
    if (!this.rebalancing || this.stopped) return
    this.rebalancing = false
    const members = [...this.members.values()]
    if (members.length === 0) return
    const formed = formGeneration(members, this.catalog())
    if ('failed' in formed) {
      // Nothing moves: the members keep the previous generation. The failing member's poll throws,
      // and asks again (as a Kafka leader whose assignor threw retries at its next poll).
      formed.failed.failure = formed.error
      formed.failed.wake()
      return
    }
    this.generation++
    this.withheld = formed.withheld
    for (const member of members) {
      const share = formed.assignments.get(member.id) ?? { partitions: [], userData: null }
      member.target.clear()
      for (const tp of share.partitions)
        member.target.set(tpKey(tp.topic, tp.partition), { topic: tp.topic, partition: tp.partition })
      member.generation = this.generation
      member.leader = member === formed.leader
      member.userData = share.userData ?? null
    }
    this.wakeAll()
  }

  /** A topic was created, grown or deleted. A deleted topic's committed offsets go with it, as in Kafka. */
  topicChanged(topic: string, deleted: boolean): void {
    if (deleted) for (const [key, tpo] of this.offsets) if (tpo.topic === topic) this.offsets.delete(key)
    if ([...this.members.values()].some((member) => member.topics.has(topic))) this.requestRebalance()
  }

  /** Owned partitions the latest assignment took away: the member must run onRevoked, then release them. */
  revocations(member: Member): TopicPartition[] {
    return sortedTps([...member.owned].filter(([key]) => !member.target.has(key)).map(([, tp]) => tp))
  }

  /** After onRevoked: the partitions are free. One withheld for another member needs a new generation. */
  release(member: Member, partitions: readonly TopicPartition[]): void {
    let handOver = false
    for (const tp of partitions) {
      const key = tpKey(tp.topic, tp.partition)
      if (member.owned.delete(key) && this.owners.get(key) === member) this.owners.delete(key)
      if (this.withheld.has(key)) handOver = true
    }
    if (handOver) this.requestRebalance()
  }

  /** Takes the assigned partitions that are free now; the member then runs onAssigned for them. */
  claim(member: Member): TopicPartition[] {
    if (member.gone) return []
    member.ownedGeneration = member.generation
    const claimed: TopicPartition[] = []
    for (const [key, tp] of member.target) {
      if (member.owned.has(key) || this.owners.has(key) || this.pendingTxnOffsets.has(key)) continue
      member.owned.set(key, tp)
      this.owners.set(key, member)
      claimed.push(tp)
    }
    return sortedTps(claimed)
  }

  /** A heartbeat: refreshes the session. False when the member is no longer in the group. */
  heartbeat(member: Member): boolean {
    if (member.gone) return false
    member.lastSeen = Date.now()
    this.sessions.arm(this.members.values())
    return true
  }

  /** Evicts members whose heartbeats stopped for their session timeout. */
  expire(now = Date.now()): void {
    for (const member of [...this.members.values()])
      if (now - member.lastSeen > member.sessionTimeoutMs) this.leave(member, 'evicted')
    this.sessions.arm(this.members.values())
  }

  /** Kafka's group states as this broker can be in them. */
  get state(): 'Empty' | 'PreparingRebalance' | 'Stable' {
    if (this.members.size === 0) return 'Empty'
    if (this.rebalancing || this.withheld.size > 0) return 'PreparingRebalance'
    for (const member of this.members.values()) {
      if (member.owned.size !== member.target.size) return 'PreparingRebalance'
      for (const key of member.target.keys()) if (!member.owned.has(key)) return 'PreparingRebalance'
    }
    return 'Stable'
  }

  /** Refuses (REBALANCE) unless the member still owns every partition; a commit also proves it alive. */
  checkOwned(member: Member, partitions: readonly TopicPartition[]): void {
    if (member.gone) {
      const why = {
        evicted: `its session timed out (${member.sessionTimeoutMs} ms without a heartbeat), so its partitions were lost`,
        fenced: `a newer member with groupInstanceId "${member.instanceId}" replaced it, so its partitions were lost`,
        left: 'it left',
      }[member.gone]
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
    this.sessions.stop()
    if (this.scheduled) clearImmediate(this.scheduled)
  }

  /** All members of a group speak one assignor protocol (Kafka's INCONSISTENT_GROUP_PROTOCOL). */
  private checkProtocol(assignor: GroupAssignor, except: Member | undefined): void {
    const others = [...this.members.values()].filter((m) => m !== except)
    const other = others.find((m) => m.assignor.name !== assignor.name)
    if (other) {
      throw new TributaryError(
        'KAFKA',
        `Cannot join group ${this.id} with assignor "${assignor.name}": its members use "${other.assignor.name}" (Kafka's INCONSISTENT_GROUP_PROTOCOL); all members of a group must use one assignor`,
      )
    }
  }

  /** Ends a membership that is already out of `members`: its partitions are nobody's now. */
  private remove(member: Member, reason: GoneReason): void {
    member.gone = reason
    let handOver = false
    for (const key of member.owned.keys()) {
      if (this.owners.get(key) === member) this.owners.delete(key)
      if (this.withheld.has(key)) handOver = true
    }
    member.owned.clear()
    member.target.clear()
    if (handOver) this.requestRebalance()
    member.wake()
  }
}
