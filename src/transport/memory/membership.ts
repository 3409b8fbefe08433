/**
 * A subscribed consumer's membership in its group: joining, rejoining after an eviction, and the
 * rebalance callbacks. They run only inside poll() and close(), as in Kafka's Java consumer: first the
 * revoked partitions (onRevoked, then release, so the new owner starts from our final commit), then
 * the freed ones we claim (onAssigned, before any of their records is fetched).
 */
import type { RebalanceListener, TopicPartition } from '../types.js'
import type { MemoryBroker } from './broker.js'
import type { Fetcher } from './fetcher.js'
import type { Group, Member } from './group-coordinator.js'
import { sortedTps } from './util.js'

export interface MemberIdentity {
  groupId: string
  clientId: string
  sessionTimeoutMs: number
}

export class Membership {
  private member: Member
  private polling = false

  constructor(
    private readonly broker: MemoryBroker,
    private readonly identity: MemberIdentity,
    private readonly fetcher: Fetcher,
    private readonly wake: () => void,
    private topics: string[],
    private listener: RebalanceListener,
  ) {
    // Joining at subscribe() (not at the first poll) lets members started together share one generation.
    this.member = this.join()
  }

  resubscribe(topics: string[], listener: RebalanceListener): void {
    this.topics = topics
    this.listener = listener
    if (this.member.gone) this.member = this.join()
    else this.member.group.resubscribe(this.member, topics)
  }

  /** Inside poll() the member is alive whatever its last poll time; leaving poll starts its session timeout. */
  setPolling(polling: boolean): void {
    this.polling = polling
    if (!this.member.gone) this.member.group.setBusy(this.member, polling)
  }

  /** Brings our partitions in line with the group's latest assignment, running the callbacks. */
  async reconcile(closing: () => boolean): Promise<void> {
    let member = this.member
    if (member.gone) {
      // Evicted after its session timeout: the partitions are lost (others may own them), so commits
      // inside onRevoked are refused. Kafka calls onPartitionsLost, whose default is onPartitionsRevoked.
      const lost = this.fetcher.list()
      this.fetcher.clear()
      if (lost.length > 0) await this.listener.onRevoked?.(lost)
      if (closing()) return
      member = this.member = this.join()
    }
    const group = member.group
    const revoked = group.revocations(member)
    if (revoked.length > 0) {
      try {
        await this.listener.onRevoked?.(revoked)
      } finally {
        for (const { topic, partition } of revoked) this.fetcher.remove(topic, partition)
        group.release(member, revoked)
      }
    }
    const claimed = group.claim(member)
    if (claimed.length > 0) {
      // Positions stay unresolved until the first fetch, so onAssigned may seek() (e.g. to a checkpoint).
      for (const { topic, partition } of claimed) this.fetcher.add(topic, partition, undefined)
      await this.listener.onAssigned?.(claimed)
    }
  }

  /** The group to commit to, once it is sure we still own every partition (else REBALANCE). */
  checkOwned(offsets: readonly TopicPartition[]): Group {
    this.member.group.checkOwned(this.member, offsets)
    return this.member.group
  }

  /** Leaves the group: onRevoked may still commit (we own the partitions until we leave), then they move at once. */
  async leave(): Promise<unknown> {
    const member = this.member
    if (member.gone) return undefined
    let failure: unknown
    const owned = sortedTps(member.owned.values())
    try {
      if (owned.length > 0) await this.listener.onRevoked?.(owned)
    } catch (error) {
      failure = error
    }
    member.group.leave(member, 'left')
    return failure
  }

  private join(): Member {
    const { groupId, clientId, sessionTimeoutMs } = this.identity
    const member = this.broker.group(groupId).join(clientId, this.topics, sessionTimeoutMs, this.wake)
    if (this.polling) member.group.setBusy(member, true)
    return member
  }
}
