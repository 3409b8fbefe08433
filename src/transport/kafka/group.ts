/**
 * Classic consumer-group membership, run by us (JoinGroup, SyncGroup, Heartbeat, LeaveGroup sent
 * with platformatic's protocol functions; one join round is in group-join.ts), with the group
 * assignor given to subscribe (default: the sticky one of src/transport/group).
 *
 * Why not platformatic's joinGroup: it rejoins by itself the moment a heartbeat is answered
 * REBALANCE_IN_PROGRESS, so a member heard of a revocation only after its partitions had moved and
 * could no longer commit what it processed; the new owner processed it again. Here a partition
 * changes owner in two steps (KIP-429), and the old owner's onRevoked sits between them:
 *   1. a rebalance (generation N) gives a moving partition to nobody (cooperativeAssign); the
 *      owner's new assignment lacks it, so it stops fetching it (buffered records dropped), then
 *      runs and awaits onRevoked. During onRevoked the partition is still ours and commit() goes
 *      out under generation N, of which we are a member: the broker accepts it;
 *   2. only then do we send JoinGroup again. The next generation hands the partition (claimed by
 *      no one any more) to its new owner, which starts at what onRevoked committed.
 * Partitions that stay keep flowing during a rebalance: no stop-the-world. A member that lost its
 * membership (the coordinator answered UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION: session expired,
 * or removed while it could not reach the cluster) drops everything at once and calls onLost
 * (onRevoked when absent): the partitions may be another member's already, so commits for them are
 * refused; then it joins again. FENCED_INSTANCE_ID (another process took our groupInstanceId) is
 * fatal: we stop rather than fence it back.
 *
 * Outages: while the cluster cannot be reached, heartbeats and joins are retried forever (noted
 * in outage.ts); we keep our partitions meanwhile, and the broker's answer once it is back is final
 * (the coordinator reloads the group; a member it still knows heartbeats on with no rebalance).
 * Only the first join of subscribe gives up, after UNREACHABLE_AFTER_MS, so a wrong setup is told.
 *
 * Static membership (KIP-345): JoinGroup, SyncGroup, Heartbeat, OffsetCommit and LeaveGroup carry
 * the groupInstanceId. A member that crashed and comes back with it within the session timeout
 * gets its partitions back. On close we do send LeaveGroup with it, unlike Kafka's Java consumer:
 * a worker that stops gracefully should hand its partitions over at once, not after a session
 * timeout (static members tend to have long ones).
 *
 * Timing: heartbeats go on while onRevoked runs, so a slow onRevoked does not cost the session.
 * While another rebalance is pending, though, the group waits for us to rejoin for at most
 * rebalanceTimeoutMs (see options.ts): onRevoked must finish within it or we are dropped from the
 * group (and then lose our partitions as above).
 *
 * Listener callbacks run on one promise chain, in order (onGeneration first in each generation);
 * `poll` waits for the chain and hands out nothing while an assignment is being applied. The join
 * loop waits for the chain before each JoinGroup, which is what orders onRevoked before the rejoin.
 */
import { ConnectionPool, heartbeatV4, leaveGroupV5, type Consumer as PltConsumer } from '@platformatic/kafka'
import { TributaryError } from '../../errors.js'
import { stickyAssignor } from '../group/sticky-assignor.js'
import type {
  GroupAssignor,
  MemberAssignment,
  RebalanceListener,
  SubscribeOptions,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.js'
import type { GroupCoordinator, Membership } from './coordinator.js'
import { asError, protocolIds, toTributaryError } from './errors.js'
import type { Fetcher } from './fetcher.js'
import { joinAndSync, partitionCounts, type Joined } from './group-join.js'
import type { Link } from './link.js'
import { UNREACHABLE_AFTER_MS, type ResolvedConsumerOptions } from './options.js'
import type { Outage } from './outage.js'
import { startOffsets } from './positions.js'
import { isTransient } from './retry.js'
import { Signal } from './signal.js'

const key = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`

/** How often the leader looks for a change in the partition counts of the subscribed topics. */
const METADATA_CHECK_MS = 3_000
/** The membership is gone: the partitions may be another member's already. */
const LOST = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID'])
/** Worth another JoinGroup after a pause: the coordinator is moving or loading, or did not answer. */
const TRANSIENT = new Set([
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'REQUEST_TIMED_OUT',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
])
/** The longest pause between two JoinGroup attempts, so a member is back within seconds of the cluster. */
const MAX_JOIN_BACKOFF_MS = 2_000

export interface GroupParts {
  client: PltConsumer
  link: Link
  coordinator: GroupCoordinator
  fetcher: Fetcher
  signal: Signal
  outage: Outage
}

export class Group {
  readonly groupId: string
  /** The generation and member id of the assignment we hold: commits go out under these. */
  generation = -1
  memberId = ''
  readonly #client: PltConsumer
  readonly #link: Link
  readonly #coordinator: GroupCoordinator
  readonly #options: ResolvedConsumerOptions
  readonly #fetcher: Fetcher
  readonly #signal: Signal
  readonly #outage: Outage
  /** What we own, each with the grant it came with: a commit retried later must still hold the same grant. */
  readonly #assigned = new Map<string, { tp: TopicPartition; grant: number }>()
  #grants = 0
  #unstarted: TopicPartition[] = []
  #unstartedRetryAt = 0
  #starting: Promise<void> | undefined
  #listener: RebalanceListener = {}
  #assignor: GroupAssignor = stickyAssignor
  #topics: string[] = []
  #chain: Promise<void> = Promise.resolve()
  #error: unknown
  /** Membership wanted: between subscribe and close. */
  #active = false
  #leaving = false
  #revokingAll = false
  #phase: 'out' | 'joining' | 'member' = 'out'
  #rejoin = false
  /** enforceRebalance: our next JoinGroup must differ from the last (see assignor.ts). */
  #nonce = 0
  #forced: string | undefined
  #applying = false
  #announced = false
  #leader = false
  /** The generation onGeneration was last called for. */
  #told: { generation: number; memberId: string } | undefined
  #counts = new Map<string, number>()
  #metadataCheckedAt = 0
  #loop: Promise<void> | undefined
  #wakeLoop: (() => void) | undefined
  readonly #phaseChanged = new Signal()
  /** Bumped after every join that completed (or failed for good): subscribe waits for it. */
  #joins = 0
  #joinFailure: { at: number; error: unknown } | undefined
  #heartbeatTimer: NodeJS.Timeout | undefined
  #heartbeating = false
  #pool: ConnectionPool | undefined

  constructor(groupId: string, options: ResolvedConsumerOptions, parts: GroupParts) {
    this.groupId = groupId
    this.#options = options
    this.#client = parts.client
    this.#link = parts.link
    this.#coordinator = parts.coordinator
    this.#fetcher = parts.fetcher
    this.#signal = parts.signal
    this.#outage = parts.outage
  }

  get joined(): boolean {
    return this.#active
  }

  /** True while a new assignment is being applied (its callbacks running): poll hands out nothing. */
  get rebalancing(): boolean {
    return this.#applying
  }

  get instanceId(): string | undefined {
    return this.#options.groupInstanceId
  }

  owns(tp: TopicPartition): boolean {
    return this.#assigned.has(key(tp))
  }

  assignment(): TopicPartition[] {
    return [...this.#assigned.values()].map(({ tp }) => tp)
  }

  async subscribe(
    topics: string[],
    listener: RebalanceListener = {},
    options: SubscribeOptions = {},
  ): Promise<void> {
    const assignor = options.assignor ?? stickyAssignor
    if (typeof assignor.name !== 'string' || assignor.name === '' || typeof assignor.assign !== 'function')
      throw new TributaryError(
        'INVALID_ARGUMENT',
        'A group assignor needs a non-empty name and an assign function',
      )
    this.#assignor = assignor
    this.#listener = listener
    this.#topics = [...new Set(topics)]
    const first = !this.#active
    this.#active = true
    this.#leaving = false
    this.#pool ??= this.#createPool()
    const joins = this.#joins
    this.#requestRejoin()
    if (first) this.#loop = this.#run()
    try {
      await this.#joinedSince(joins)
    } catch (error) {
      if (first) {
        // Not a member: poll must not wait for a rebalance that is not coming.
        this.#active = false
        this.#wakeLoop?.()
        await this.#loop
      }
      throw error
    }
    await this.settled()
  }

  /** Kafka's enforceRebalance: joins again with metadata that differs, so the group rebalances. */
  enforceRebalance(reason?: string): void {
    if (!this.#active || this.#leaving) return
    this.#nonce++
    this.#forced = reason ?? 'enforceRebalance'
    this.#announce()
    this.#requestRejoin()
  }

  /** Waits for pending rebalance work; throws what a listener or a rejoin raised, once. */
  async settled(): Promise<void> {
    await this.#chain
    if (this.#unstarted.length > 0 && Date.now() >= this.#unstartedRetryAt) {
      // Retried in the background: during an outage a poll must not wait for it each time.
      this.#starting ??= this.#start(this.#unstarted).finally(() => (this.#starting = undefined))
    }
    const error = this.#error
    if (error !== undefined) {
      this.#error = undefined
      throw asError(error)
    }
  }

  /** A partition that could not get its start offset yet begins where the user seeks. */
  seekUnstarted(position: TopicPartitionOffset): boolean {
    const index = this.#unstarted.findIndex((tp) => key(tp) === key(position))
    if (index < 0) return false
    this.#unstarted.splice(index, 1)
    this.#fetcher.add([position])
    return true
  }

  /** For commits: who we are in the generation whose assignment we hold. */
  membership(): Membership {
    return {
      groupId: this.groupId,
      generationId: this.generation,
      memberId: this.memberId,
      groupInstanceId: this.#options.groupInstanceId,
    }
  }

  /**
   * Commits under the generation we hold. When our own rejoin is under way the coordinator may
   * answer REBALANCE_IN_PROGRESS or ILLEGAL_GENERATION: then the commit goes again under the new
   * generation once it is known, but only if every partition is still held under the same grant
   * (kept through the rebalance, so ours all along). A partition we lost, or that left and came
   * back, may have been committed by another member meanwhile: that commit is refused (REBALANCE),
   * never applied late.
   */
  async commit(
    offsets: TopicPartitionOffset[],
    check: () => void,
    send: (member: Membership) => Promise<void>,
  ): Promise<void> {
    check()
    const grants = offsets.map((o) => this.#assigned.get(key(o))?.grant)
    for (let attempt = 0; ; attempt++) {
      const member = this.membership()
      try {
        await send(member)
        return
      } catch (error) {
        const ids = protocolIds(error)
        const stale = ids.includes('REBALANCE_IN_PROGRESS') || ids.includes('ILLEGAL_GENERATION')
        const rejoining = this.#phase === 'joining' || this.generation !== member.generationId
        if (!stale || !rejoining || attempt >= 3 || !this.#active) throw error
        await this.#untilNotJoining(this.#options.rebalanceTimeoutMs)
        check()
        offsets.forEach((o, i) => {
          if (this.#assigned.get(key(o))?.grant !== grants[i])
            throw new TributaryError(
              'REBALANCE',
              `Cannot commit ${o.topic}[${o.partition}]: it changed owner while the commit was under way`,
              { topic: o.topic, partition: o.partition, offset: o.offset, cause: error },
            )
        })
      }
    }
  }

  /** True while close() runs onRevoked for everything we own. */
  get revokingAll(): boolean {
    return this.#revokingAll
  }

  /** Before leaving: the listener hears of every partition; commits still work (we are a member until we leave). */
  async revokeAll(): Promise<void> {
    this.#leaving = true
    const revoke = async (): Promise<void> => {
      const owned = this.assignment()
      this.#unstarted = []
      this.#fetcher.remove(owned)
      this.#revokingAll = true
      try {
        if (owned.length > 0) await this.#call('onRevoked', owned)
      } finally {
        this.#revokingAll = false
        this.#assigned.clear()
      }
    }
    const run = this.#chain.then(revoke)
    this.#chain = run.catch(() => undefined)
    await run
  }

  /** Leaves the group (LeaveGroup: our partitions move at once) and stops the membership. */
  async leave(): Promise<void> {
    this.#active = false
    this.#leaving = true
    this.#stopHeartbeat()
    this.#wakeLoop?.()
    this.#phaseChanged.notify()
    const memberId = this.memberId
    const groupInstanceId = this.#options.groupInstanceId ?? null
    try {
      if (memberId !== '') {
        await this.#link.run(`leave group "${this.groupId}"`, async () => {
          try {
            const connection = await this.#coordinator.connection()
            await leaveGroupV5.api.async(connection, this.groupId, [
              { memberId, groupInstanceId, reason: 'the consumer is closing' },
            ])
          } catch (error) {
            this.#coordinator.failed(error)
            // Already gone (session expired, never joined, or replaced): nothing to leave.
            const ids = protocolIds(error)
            if (!ids.includes('UNKNOWN_MEMBER_ID') && !ids.includes('FENCED_INSTANCE_ID')) throw error
          }
        })
      }
    } finally {
      this.memberId = ''
      this.generation = -1
      this.#phase = 'out'
      this.#outage.clear('group')
      // Fails a JoinGroup still waiting on the broker, so the loop ends.
      await this.#pool?.close().catch(() => undefined)
      await this.#loop?.catch(() => undefined)
    }
  }

  // ---- the join loop -------------------------------------------------------------------------

  #requestRejoin(): void {
    this.#rejoin = true
    this.#wakeLoop?.()
  }

  /** Announces a rebalance to the listener, once per rebalance. */
  #announce(): void {
    if (this.#announced) return
    this.#announced = true
    try {
      this.#listener.onRebalanceStarting?.()
    } catch (error) {
      this.#error ??= error
    }
  }

  async #run(): Promise<void> {
    let failures = 0
    while (this.#active) {
      if (!this.#rejoin) {
        await new Promise<void>((resolve) => (this.#wakeLoop = resolve))
        this.#wakeLoop = undefined
        continue
      }
      // Revocations (onRevoked) finish before we join again: this is the whole point.
      await this.#chain
      if (!this.#active || this.#leaving) break
      this.#rejoin = false
      this.#setPhase('joining')
      this.#stopHeartbeat()
      const nonce = this.#forced === undefined ? undefined : this.#nonce
      let joined: Joined
      try {
        joined = await this.#joinAndSync(nonce)
      } catch (error) {
        if (!this.#active) break
        this.#rejoin = true
        const ids = protocolIds(error)
        if (ids.includes('FENCED_INSTANCE_ID')) {
          this.#fenced(error)
          break
        }
        if (ids.some((id) => LOST.has(id))) this.#lose(ids.includes('UNKNOWN_MEMBER_ID'))
        // Still a member of the generation we hold (our JoinGroup failed, not the group): heartbeat on.
        this.#setPhase(this.generation >= 0 ? 'member' : 'out')
        if (this.#phase === 'member') this.#scheduleHeartbeat()
        if (ids.includes('REBALANCE_IN_PROGRESS') || ids.some((id) => LOST.has(id))) continue
        failures++
        this.#failed(error, ids)
        await this.#pause(Math.min(100 * 2 ** failures, MAX_JOIN_BACKOFF_MS))
        continue
      }
      failures = 0
      this.#joinFailure = undefined
      this.#outage.clear('group')
      if (nonce === this.#nonce) this.#forced = undefined
      this.generation = joined.generation
      this.memberId = joined.memberId
      this.#leader = joined.leader
      this.#counts = joined.counts
      this.#metadataCheckedAt = Date.now()
      this.#announced = false
      this.#setPhase('member')
      this.#scheduleHeartbeat()
      if (!this.#leaving) this.#apply(joined)
      this.#joins++
    }
    this.#stopHeartbeat()
  }

  /**
   * A failed join. Transient ones (cluster unreachable, coordinator moving) are retried by the loop
   * and noted as an outage; subscribe gives up on them after UNREACHABLE_AFTER_MS. Others are
   * reported at once (subscribe, then poll), and the loop still tries again.
   */
  #failed(error: unknown, ids: string[]): void {
    const mapped = toTributaryError(error, this.#link.context(`join group "${this.groupId}"`))
    const transient = ids.some((id) => TRANSIENT.has(id)) || isTransient(mapped)
    const now = Date.now()
    const since = this.#joinFailure?.at ?? now
    this.#joinFailure = { at: since, error: mapped }
    if (transient) {
      this.#outage.note('group', mapped)
      if (now - since < UNREACHABLE_AFTER_MS) return
      this.#joinFailure = { at: now, error: mapped }
    } else {
      this.#error ??= mapped
    }
    this.#joins++
    this.#phaseChanged.notify()
    this.#signal.notify()
  }

  /** Another consumer joined with our groupInstanceId: it is the member now, we stop for good. */
  #fenced(error: unknown): void {
    this.#announce()
    this.#lose(true)
    this.#active = false
    this.#stopHeartbeat()
    const instance = this.#options.groupInstanceId
    this.#error ??= new TributaryError(
      'FENCED',
      `Group "${this.groupId}": another consumer joined with groupInstanceId "${instance}"; this one stopped consuming`,
      { cause: error },
    )
    this.#joinFailure = { at: Date.now(), error: this.#error }
    this.#joins++
    this.#phaseChanged.notify()
    this.#signal.notify()
  }

  #joinAndSync(nonce: number | undefined): Promise<Joined> {
    const { sessionTimeoutMs, rebalanceTimeoutMs, groupInstanceId } = this.#options
    const context = {
      client: this.#client,
      link: this.#link,
      coordinator: this.#coordinator,
      pool: this.#pool!,
      onMemberId: (memberId: string) => (this.memberId = memberId),
    }
    return joinAndSync(context, {
      groupId: this.groupId,
      memberId: this.memberId,
      instanceId: groupInstanceId,
      sessionTimeoutMs,
      rebalanceTimeoutMs,
      assignor: this.#assignor,
      topics: this.#topics,
      owned: this.assignment(),
      generation: this.#assigned.size > 0 ? this.generation : -1,
      nonce,
      reason: this.#forced ?? null,
    })
  }

  /**
   * Applies a new generation on the chain: onGeneration, then onRevoked for what left (and a
   * rejoin once it returned, to release it), then onAssigned for what came.
   */
  #apply(joined: Joined): void {
    this.#applying = true
    const { assignment } = joined
    const run = async (): Promise<void> => {
      const told = this.#told
      if (told?.generation !== joined.generation || told.memberId !== joined.memberId) {
        this.#told = { generation: joined.generation, memberId: joined.memberId }
        await this.#tellGeneration(joined, assignment)
      }
      const next = new Map(assignment.partitions.map((tp) => [key(tp), tp]))
      const revoked = this.assignment().filter((tp) => !next.has(key(tp)))
      const added = [...next].filter(([k]) => !this.#assigned.has(k)).map(([, tp]) => tp)
      this.#unstarted = this.#unstarted.filter((tp) => next.has(key(tp)))
      if (revoked.length > 0) {
        // From here their buffered records are gone; commits for them still work until onRevoked returns.
        this.#fetcher.remove(revoked)
        try {
          await this.#call('onRevoked', revoked)
        } finally {
          for (const tp of revoked) this.#assigned.delete(key(tp))
          // The group waits for our release to hand them to their new owner.
          this.#requestRejoin()
        }
      }
      if (added.length > 0 && this.#active && !this.#leaving) {
        for (const tp of added) this.#assigned.set(key(tp), { tp, grant: ++this.#grants })
        await this.#start(added)
        await this.#call('onAssigned', added)
      }
    }
    this.#chain = this.#chain
      .then(run)
      .catch((error: unknown) => {
        this.#error ??= error
      })
      .finally(() => {
        this.#applying = false
        this.#signal.notify()
      })
  }

  async #tellGeneration(joined: Joined, assignment: MemberAssignment): Promise<void> {
    try {
      await this.#listener.onGeneration?.({
        generation: joined.generation,
        memberId: joined.memberId,
        leader: joined.leader,
        assignment: { partitions: [...assignment.partitions], userData: assignment.userData },
      })
    } catch (error) {
      this.#error ??= error
    }
  }

  /** Membership lost: the partitions may be another member's already; drop them, then tell the listener. */
  #lose(unknownMember: boolean): void {
    this.generation = -1
    if (unknownMember) this.memberId = ''
    this.#leader = false
    this.#told = undefined
    const lost = this.assignment()
    this.#assigned.clear()
    this.#unstarted = []
    this.#fetcher.remove(lost)
    if (lost.length === 0) return
    this.#applying = true
    this.#chain = this.#chain
      .then(() => this.#call(this.#listener.onLost ? 'onLost' : 'onRevoked', lost))
      .finally(() => {
        this.#applying = false
        this.#signal.notify()
      })
  }

  // ---- heartbeats ----------------------------------------------------------------------------

  #scheduleHeartbeat(): void {
    this.#stopHeartbeat()
    if (!this.#active) return
    const interval = Math.max(this.#options.heartbeatIntervalMs, 100)
    this.#heartbeatTimer = setTimeout(() => void this.#heartbeat(), interval)
  }

  #stopHeartbeat(): void {
    clearTimeout(this.#heartbeatTimer)
    this.#heartbeatTimer = undefined
  }

  async #heartbeat(): Promise<void> {
    if (this.#phase !== 'member' || this.#heartbeating || !this.#active) return
    this.#heartbeating = true
    const { generation, memberId } = this
    let failure: unknown
    try {
      const connection = await this.#coordinator.connection()
      await heartbeatV4.api.async(
        connection,
        this.groupId,
        generation,
        memberId,
        this.#options.groupInstanceId ?? null,
      )
    } catch (error) {
      failure = error
      this.#coordinator.failed(error)
    } finally {
      this.#heartbeating = false
    }
    const ids = protocolIds(failure)
    if (failure === undefined || ids.length > 0) this.#outage.clear('group')
    if (failure === undefined && this.#leader && Date.now() - this.#metadataCheckedAt >= METADATA_CHECK_MS)
      await this.#checkMetadata().catch(() => undefined)
    // A rejoin happened meanwhile: this answer is about a generation we no longer hold.
    if (this.generation !== generation || this.memberId !== memberId || this.#phase !== 'member') {
      if (this.#phase === 'member') this.#scheduleHeartbeat()
      return
    }
    if (ids.includes('FENCED_INSTANCE_ID')) {
      this.#fenced(failure)
      return
    }
    if (ids.includes('REBALANCE_IN_PROGRESS')) {
      this.#announce()
      this.#requestRejoin()
    } else if (ids.some((id) => LOST.has(id))) {
      this.#announce()
      this.#lose(ids.includes('UNKNOWN_MEMBER_ID'))
      this.#setPhase('out')
      this.#requestRejoin()
      return
    } else if (failure !== undefined) {
      // Coordinator moving, cluster unreachable: the next heartbeat tries again, the broker decides.
      const mapped = toTributaryError(failure, this.#link.context(`heartbeat in group "${this.groupId}"`))
      if (isTransient(mapped) || ids.some((id) => TRANSIENT.has(id))) this.#outage.note('group', mapped)
      else this.#error ??= mapped
    }
    this.#scheduleHeartbeat()
  }

  /** The leader starts a rebalance when a subscribed topic gained partitions (or went away). */
  async #checkMetadata(): Promise<void> {
    this.#metadataCheckedAt = Date.now()
    const counts = await partitionCounts({ client: this.#client, link: this.#link }, [...this.#counts.keys()])
    const changed = [...counts].some(([topic, count]) => this.#counts.get(topic) !== count)
    if (changed && this.#phase === 'member') {
      this.#announce()
      this.#requestRejoin()
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  #setPhase(phase: 'out' | 'joining' | 'member'): void {
    this.#phase = phase
    this.#phaseChanged.notify()
  }

  async #untilNotJoining(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.#phase === 'joining' && this.#active && Date.now() < deadline) {
      await this.#phaseChanged.wait(deadline - Date.now())
    }
  }

  /** Until the loop completed a join after `joins` (or reported a join failure). */
  async #joinedSince(joins: number): Promise<void> {
    while (this.#joins === joins) {
      if (!this.#active) {
        if (this.#joinFailure) break
        throw new TributaryError('CLOSED', 'The consumer is closed')
      }
      await this.#phaseChanged.wait(1_000)
    }
    await this.#chain
    if (this.#joinFailure && this.#phase !== 'member') {
      const error = this.#joinFailure.error
      if (this.#error === error) this.#error = undefined
      throw asError(error)
    }
  }

  async #pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.#wakeLoop = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    this.#wakeLoop = undefined
  }

  #createPool(): ConnectionPool {
    const { connection } = this.#link
    // JoinGroup waits on the broker for the whole rebalance: its own connections, with a timeout
    // longer than the rebalance timeout, so it never holds up heartbeats or commits.
    return new ConnectionPool(`${this.#client.clientId}-group`, {
      connectTimeout: connection.connectTimeoutMs,
      requestTimeout: this.#options.rebalanceTimeoutMs + connection.requestTimeoutMs,
      ...(connection.tls ? { tls: connection.tls === true ? {} : connection.tls } : {}),
      ...(connection.sasl ? { sasl: { ...connection.sasl } } : {}),
    })
  }

  /**
   * Starts fetching at the group's committed offset, or per offsetReset. A transient failure
   * (cluster unreachable) is noted and retried by a later poll; another is reported by poll.
   */
  async #start(partitions: TopicPartition[]): Promise<void> {
    const wanted = partitions.filter((tp) => this.#assigned.has(key(tp)) && !this.#fetcher.has(tp))
    try {
      // Partitions just added to a topic: the cached metadata may not know them yet.
      const topics = [...new Set(wanted.map((tp) => tp.topic))]
      if (topics.length > 0) {
        const known = await this.#client.metadata({ topics })
        if (wanted.some((tp) => (known.topics.get(tp.topic)?.partitionsCount ?? 0) <= tp.partition))
          await this.#client.metadata({ topics, forceUpdate: true })
      }
      const requests = wanted.map((tp) => ({ ...tp, from: 'committed' as const }))
      const positions = await startOffsets(
        this.#client,
        this.#link,
        requests,
        this.#coordinator,
        this.#options.offsetReset,
      )
      this.#unstarted = this.#unstarted.filter((tp) => !wanted.some((w) => key(w) === key(tp)))
      this.#fetcher.add(positions.filter((p) => this.#assigned.has(key(p)) && !this.#fetcher.has(p)))
      this.#outage.clear('start')
    } catch (error) {
      for (const tp of wanted) if (!this.#unstarted.some((u) => key(u) === key(tp))) this.#unstarted.push(tp)
      const mapped = toTributaryError(
        error,
        this.#link.context(`start partitions of group "${this.groupId}"`),
      )
      this.#unstartedRetryAt = Date.now() + 1_000
      if (isTransient(mapped)) this.#outage.note('start', mapped)
      else this.#error ??= mapped
    }
  }

  async #call(name: 'onAssigned' | 'onRevoked' | 'onLost', partitions: TopicPartition[]): Promise<void> {
    try {
      await this.#listener[name]?.(partitions)
    } catch (error) {
      this.#error ??= error
    }
  }
}
