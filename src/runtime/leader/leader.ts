/**
 * Leader election on Kafka itself, the way Faust does it: every worker of an app joins the consumer
 * group `<appId>-leader` on the 1-partition topic `<appId>-__leader`, and the member that is assigned
 * partition 0 is the leader. When the leader leaves (stop) the group hands partition 0 over at once;
 * when it dies, after the group's session timeout.
 *
 * Becoming leader takes two more steps than the assignment, so that leadership is fenced by the
 * group coordinator rather than by our belief:
 *   1. claim: append a record to partition 0; its offset is the leader epoch, a number that grows
 *      with every new leadership across the whole app (a fencing token callers can hand on; it has
 *      gaps where a claim was not confirmed, and restarts only if someone deletes the topic);
 *   2. confirm: commit offset epoch + 1 for the group. The coordinator accepts it only from a member
 *      of the current generation, and in the classic group protocol (which our kafka:// consumer speaks)
 *      a commit also refreshes the member's session.
 * The leader renews (commits again) every heartbeat interval. Each accepted commit, sent at t, proves
 * the broker cannot evict us before t + sessionTimeoutMs, so we hold a lease until
 * t + sessionTimeoutMs - heartbeatIntervalMs and stop believing we lead when it runs out, even if
 * nothing told us (a paused process, an unreachable broker).
 *
 * Invariants: isLeader() is false from the moment onRevoked ran (it flips synchronously in the
 * callback), after stop(), and after the lease ran out. A claim or renewal that completes after a
 * revocation is dropped (the stint counter).
 *
 * Limits (no lock service is stronger than its fencing):
 * - two leaders can overlap briefly on kafka:// when partition 0 moves between live workers in a
 *   rebalance (the old one learns at its own SyncGroup answer, usually within milliseconds of the new
 *   one, which first needs two round trips to claim), and between a caller's isLeader() check and the
 *   effect it then has, if the process pauses in between for longer than the lease left;
 * - so a side effect that must never be doubled should carry epoch() and let its target reject an
 *   epoch lower than the highest it has seen, or call confirm() right before acting;
 * - both transports assign stickily: a worker that joins does not take partition 0, and so
 *   leadership, from a live leader.
 */
import { performance } from 'node:perf_hooks'
import { TributaryError } from '../../errors.js'
import type { Consumer, Producer, TopicPartition } from '../../transport/types.js'
import {
  claimRecord,
  defaultWorkerId,
  ensureLeaderTopic,
  leaderGroup,
  leaderTopic,
  subscribeLeaderTopic,
} from './topic.js'
import { resolveLeaderOptions, type LeaderElectorOptions, type ResolvedLeaderOptions } from './options.js'

export type { LeaderElectorOptions } from './options.js'

export interface LeaderStats {
  workerId: string
  leader: boolean
  epoch: number | undefined
  /** How long the lease has left; 0 when not leading. */
  leaseRemainingMs: number
  /** How many times this worker became leader. */
  elected: number
}

export interface LeadershipChange {
  leader: boolean
  /** The leader epoch when `leader` is true (see LeaderElector.epoch). */
  epoch: number | undefined
}

const isCode = (error: unknown, code: string): boolean =>
  error instanceof TributaryError && error.code === code

export class LeaderElector {
  readonly workerId: string
  readonly topic: string
  readonly #options: ResolvedLeaderOptions
  readonly #listeners = new Set<(change: LeadershipChange) => void>()
  #consumer: Consumer | undefined
  #producer: Producer | undefined
  #loop: Promise<void> | undefined
  #running = false
  #halted = false
  /** Partition 0 is ours per the group; #stint counts assignments and revocations. */
  #assigned = false
  #stint = 0
  #epoch: number | undefined
  #leaseUntil = 0
  #renewAt = 0
  #expiry: NodeJS.Timeout | undefined
  #reported = false
  #elected = 0

  constructor(options: LeaderElectorOptions) {
    this.#options = resolveLeaderOptions(options, defaultWorkerId)
    this.workerId = this.#options.workerId
    this.topic = leaderTopic(this.#options.appId)
  }

  /** Creates the topic if needed, joins the group and starts the background loop. */
  async start(): Promise<void> {
    if (this.#consumer) throw new TributaryError('INVALID_ARGUMENT', 'This LeaderElector was already started')
    const { transport, appId, sessionTimeoutMs, heartbeatIntervalMs, replicationFactor } = this.#options
    await ensureLeaderTopic(transport, this.topic, replicationFactor)
    const consumer = (this.#consumer = transport.consumer({
      groupId: leaderGroup(appId),
      clientId: this.workerId,
      sessionTimeoutMs,
      heartbeatIntervalMs,
      offsetReset: 'latest',
    }))
    try {
      await subscribeLeaderTopic(consumer, this.topic, {
        onAssigned: (partitions) => this.#onAssigned(partitions),
        onRevoked: (partitions) => this.#onRevoked(partitions),
      })
      this.#producer = transport.producer({ clientId: this.workerId, acks: 'all' })
    } catch (error) {
      this.#consumer = undefined
      await consumer.close().catch(() => undefined)
      throw error
    }
    this.#running = true
    this.#loop = this.#run()
  }

  /** True while this worker is the leader: assigned partition 0, claim confirmed, lease running. */
  isLeader(): boolean {
    return (
      this.#running && this.#assigned && this.#epoch !== undefined && performance.now() < this.#leaseUntil
    )
  }

  /** The leader epoch (offset of our claim on partition 0) while we lead, else undefined. */
  epoch(): number | undefined {
    return this.isLeader() ? this.#epoch : undefined
  }

  stats(): LeaderStats {
    const leader = this.isLeader()
    return {
      workerId: this.workerId,
      leader,
      epoch: leader ? this.#epoch : undefined,
      leaseRemainingMs: leader ? Math.round(this.#leaseUntil - performance.now()) : 0,
      elected: this.#elected,
    }
  }

  /** Calls `listener` on every change of isLeader(); returns a function that unsubscribes. */
  onChange(listener: (change: LeadershipChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Asks the group coordinator, now, whether we still lead (a generation-checked commit, which also
   * extends the lease). The narrowest guard before a side effect: false if any newer generation exists.
   */
  async confirm(): Promise<boolean> {
    if (!this.isLeader()) return false
    try {
      await this.#renew()
    } catch (error) {
      this.#failed(error)
    }
    this.#publish()
    return this.isLeader()
  }

  /** Leaves the group, so that another worker takes over at once; we stop leading before that. */
  async stop(): Promise<void> {
    const consumer = this.#consumer
    if (!consumer || !this.#running) return
    this.#running = false
    this.#publish()
    await this.#loop
    clearTimeout(this.#expiry)
    try {
      await consumer.close()
    } finally {
      await this.#producer?.close()
      this.#publish()
    }
  }

  /**
   * For tests: stops polling and renewing without leaving the group or running any callback, as a
   * SIGKILLed or frozen worker would. The group evicts it after the session timeout; isLeader()
   * turns false when its lease runs out. stop() still releases it.
   */
  async haltForTest(): Promise<void> {
    this.#halted = true
    await this.#loop
  }

  async #run(): Promise<void> {
    const consumer = this.#consumer!
    const { pollTimeoutMs, heartbeatIntervalMs } = this.#options
    while (this.#running && !this.#halted) {
      try {
        // Polling keeps our membership alive (memory:// evicts a member that stops polling) and runs
        // the rebalance callbacks; the records (our own claims) are of no use.
        await consumer.poll({ timeoutMs: pollTimeoutMs, maxRecords: 100 })
        if (!this.#running || this.#halted) break
        if (this.#assigned && this.#epoch === undefined) await this.#claim()
        else if (this.#epoch !== undefined && performance.now() >= this.#renewAt) await this.#renew()
      } catch (error) {
        this.#failed(error)
        if (isCode(error, 'CLOSED')) break
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, heartbeatIntervalMs)))
      }
      this.#publish()
    }
  }

  async #claim(): Promise<void> {
    const stint = this.#stint
    const [metadata] = await this.#producer!.send([claimRecord(this.topic, this.workerId)])
    if (!metadata || stint !== this.#stint) return
    const sentAt = performance.now()
    await this.#consumer!.commit([{ topic: this.topic, partition: 0, offset: metadata.offset + 1 }])
    if (stint !== this.#stint || !this.#assigned) return
    this.#epoch = metadata.offset
    this.#extend(sentAt)
  }

  async #renew(): Promise<void> {
    const stint = this.#stint
    const epoch = this.#epoch
    if (epoch === undefined) return
    const sentAt = performance.now()
    const current = (): boolean => stint === this.#stint && epoch === this.#epoch
    try {
      await this.#consumer!.commit([{ topic: this.topic, partition: 0, offset: epoch + 1 }])
    } catch (error) {
      // Refused: we are not in the current generation (or one is being formed), so this leadership
      // ends; a new claim follows if partition 0 is still ours once the group settles.
      if (isCode(error, 'REBALANCE') && current()) this.#epoch = undefined
      throw error
    }
    if (current()) this.#extend(sentAt)
  }

  #extend(sentAt: number): void {
    const { sessionTimeoutMs, heartbeatIntervalMs } = this.#options
    this.#leaseUntil = sentAt + sessionTimeoutMs - heartbeatIntervalMs
    this.#renewAt = sentAt + heartbeatIntervalMs
    // Tell listeners when the lease runs out even if the loop is stuck in a request.
    clearTimeout(this.#expiry)
    this.#expiry = setTimeout(() => this.#publish(), this.#leaseUntil - performance.now() + 1)
    this.#expiry.unref()
  }

  /** REBALANCE is how leadership ends (onChange tells it), not an error; the rest is reported and retried. */
  #failed(error: unknown): void {
    if (isCode(error, 'REBALANCE') || (isCode(error, 'CLOSED') && !this.#running)) return
    this.#options.onError(error)
  }

  #onAssigned(partitions: TopicPartition[]): void {
    if (!partitions.some((tp) => tp.topic === this.topic && tp.partition === 0)) return
    this.#assigned = true
    this.#stint++
  }

  #onRevoked(partitions: TopicPartition[]): void {
    if (!partitions.some((tp) => tp.topic === this.topic && tp.partition === 0)) return
    // Synchronously, before anything else runs: from here on isLeader() is false.
    this.#assigned = false
    this.#stint++
    this.#epoch = undefined
    this.#publish()
  }

  #publish(): void {
    const leader = this.isLeader()
    if (leader === this.#reported) return
    this.#reported = leader
    if (leader) this.#elected++
    const change: LeadershipChange = { leader, epoch: leader ? this.#epoch : undefined }
    for (const listener of this.#listeners) {
      try {
        listener(change)
      } catch (error) {
        this.#options.onError(error)
      }
    }
  }
}
