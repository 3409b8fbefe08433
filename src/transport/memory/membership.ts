/**
 * A subscribed consumer's membership in its group: joining, heartbeats, rejoining after a lost
 * membership, and the rebalance callbacks. The callbacks run only inside poll() and close(), as in
 * Kafka's Java consumer: first onGeneration for a generation not reported yet, then the revoked
 * partitions (onRevoked, then release, so the new owner starts from our final commit), then the
 * freed ones we claim (onAssigned, before any of their records is fetched).
 *
 * Liveness is Kafka's: a background (unref'd) heartbeat every heartbeatIntervalMs keeps the member
 * in the group whether or not it polls; the group evicts it sessionTimeoutMs after the last one.
 * A member stuck in processing is the runtime's watchdog's business, not the group's.
 */
import { TributaryError } from '../../errors.js'
import type { GroupAssignor, RebalanceListener, TopicPartition } from '../types.js'
import type { MemoryBroker } from './broker.js'
import type { Fetcher } from './fetcher.js'
import type { Group } from './group/coordinator.js'
import type { Member } from './group/member.js'
import { sortedTps } from './util.js'

export interface MemberIdentity {
  groupId: string
  clientId: string
  instanceId: string | undefined
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
}

/** Enough passes to settle a generation that moves while callbacks run; the rest waits for the next poll. */
const MAX_PASSES = 8

export class Membership {
  private member: Member
  private group!: Group
  /** The last generation reported through onGeneration. */
  private reported = 0
  private readonly heartbeat: NodeJS.Timeout

  constructor(
    private readonly broker: MemoryBroker,
    private readonly identity: MemberIdentity,
    private readonly fetcher: Fetcher,
    private readonly wake: () => void,
    private topics: string[],
    private listener: RebalanceListener,
    private assignor: GroupAssignor,
  ) {
    // Joining at subscribe() (not at the first poll) lets members started together share one generation.
    this.member = this.join()
    this.heartbeat = setInterval(() => this.beat(), identity.heartbeatIntervalMs)
    this.heartbeat.unref()
  }

  resubscribe(topics: string[], listener: RebalanceListener, assignor: GroupAssignor): void {
    if (!this.member.gone) this.group.resubscribe(this.member, topics, assignor)
    // A member that lost its membership rejoins with these at its next poll.
    this.topics = topics
    this.listener = listener
    this.assignor = assignor
  }

  /** Kafka's enforceRebalance: a new generation, in which every member's assignor is asked again. */
  enforceRebalance(): void {
    if (!this.member.gone) this.group.requestRebalance()
  }

  /** Brings our partitions in line with the group's latest generation, running the callbacks. */
  async reconcile(closing: () => boolean): Promise<void> {
    let member = this.member
    if (member.gone) {
      await this.lose()
      if (member.gone === 'fenced') throw this.fencedError()
      if (closing()) return
      member = this.member = this.join()
    }
    const group = this.group
    group.settle()
    if (member.failure !== undefined) {
      // Our assignor threw while the group formed a generation: the poll fails, the next one retries.
      const failure = member.failure
      member.failure = undefined
      group.requestRebalance()
      throw failure instanceof Error ? failure : new Error(`assignor failed: ${JSON.stringify(failure)}`)
    }
    for (let pass = 0; pass < MAX_PASSES && !member.gone; pass++) {
      if (member.generation > this.reported) {
        this.reported = member.generation
        await this.listener.onGeneration?.({
          generation: member.generation,
          memberId: member.id,
          leader: member.leader,
          assignment: { partitions: sortedTps(member.target.values()), userData: member.userData },
        })
        continue // the group may have moved on during the call
      }
      const revoked = group.revocations(member)
      if (revoked.length > 0) {
        try {
          await this.listener.onRevoked?.(revoked)
        } finally {
          for (const { topic, partition } of revoked) this.fetcher.remove(topic, partition)
          group.release(member, revoked)
        }
        continue
      }
      const claimed = group.claim(member)
      if (claimed.length > 0) {
        // Positions stay unresolved until the first fetch, so onAssigned may seek() (e.g. to a checkpoint).
        for (const { topic, partition } of claimed) this.fetcher.add(topic, partition, undefined)
        await this.listener.onAssigned?.(claimed)
      }
      return
    }
  }

  /** The group to commit to, once it is sure we still own every partition (else REBALANCE). */
  checkOwned(offsets: readonly TopicPartition[]): Group {
    this.group.checkOwned(this.member, offsets)
    return this.group
  }

  /**
   * Leaves the group: onRevoked may still commit (we own the partitions until we leave), then they
   * move at once. A static member leaves too: on a graceful stop we hand over now rather than make
   * the group wait a session timeout. A membership lost already runs onLost instead.
   */
  async leave(): Promise<unknown> {
    clearInterval(this.heartbeat)
    const member = this.member
    let failure: unknown
    try {
      if (member.gone) await this.lose()
      else {
        const owned = sortedTps(member.owned.values())
        if (owned.length > 0) await this.listener.onRevoked?.(owned)
      }
    } catch (error) {
      failure = error
    }
    this.group.leave(member, 'left')
    return failure
  }

  /**
   * The membership ended without us (evicted, fenced): another member may own our partitions already,
   * so they are dropped at once and onLost (by default onRevoked, whose commits are refused) is told.
   */
  private async lose(): Promise<void> {
    const lost = this.fetcher.list()
    this.fetcher.clear()
    if (lost.length === 0) return
    if (this.listener.onLost) await this.listener.onLost(lost)
    else await this.listener.onRevoked?.(lost)
  }

  private join(): Member {
    const { groupId, clientId, instanceId, sessionTimeoutMs } = this.identity
    this.broker.faults.check('join', clientId, `join group ${groupId}`)
    this.group = this.broker.group(groupId)
    return this.group.join({
      clientId,
      instanceId,
      topics: this.topics,
      assignor: this.assignor,
      sessionTimeoutMs,
      wake: this.wake,
    })
  }

  /** One heartbeat; a lost one (injected fault) simply does not count toward the session. */
  private beat(): void {
    try {
      this.broker.check()
    } catch {
      clearInterval(this.heartbeat) // the broker was reset: nothing to keep alive
      return
    }
    if (this.broker.faults.take('heartbeat', this.identity.clientId, 'heartbeat')) return
    // Answered UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID: wake the poll, which reports the loss.
    if (this.group.heartbeat(this.member)) return
    if (this.member.gone === 'fenced') clearInterval(this.heartbeat) // fatal: it never rejoins
    this.wake()
  }

  private fencedError(): TributaryError {
    const { clientId, groupId, instanceId } = this.identity
    return new TributaryError(
      'FENCED',
      `Consumer ${clientId} was fenced from group ${groupId}: another consumer joined with the same groupInstanceId "${instanceId}" (Kafka's FENCED_INSTANCE_ID); close this one`,
    )
  }
}
