/**
 * Classic consumer-group membership, run by us (JoinGroup, SyncGroup, Heartbeat, LeaveGroup sent
 * with platformatic's protocol functions), with the cooperative sticky assignor of assignor.ts.
 *
 * Why not platformatic's joinGroup: it rejoins by itself the moment a heartbeat is answered
 * REBALANCE_IN_PROGRESS, so a member heard of a revocation only after its partitions had moved and
 * could no longer commit what it processed; the new owner processed it again. Here a partition
 * changes owner in two steps (KIP-429), and the old owner's onRevoked sits between them:
 *   1. a rebalance (generation N) gives a moving partition to nobody; the owner's new assignment
 *      lacks it, so it stops fetching it (buffered records dropped), then runs and awaits
 *      onRevoked. During onRevoked the partition is still ours and commit() goes out under
 *      generation N, of which we are a member: the broker accepts it;
 *   2. only then do we send JoinGroup again. The next generation hands the partition (claimed by
 *      no one any more) to its new owner, which starts at what onRevoked committed.
 * Partitions that stay keep flowing during a rebalance: no stop-the-world. A member that lost its
 * membership (session expired, fenced: heartbeat answered UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION)
 * drops everything at once and its onRevoked commits are refused (others may own the partitions).
 *
 * Timing: heartbeats go on while onRevoked runs, so a slow onRevoked does not cost the session.
 * While another rebalance is pending, though, the group waits for us to rejoin for at most
 * rebalanceTimeoutMs (see options.ts): onRevoked must finish within it or we are dropped from the
 * group (and then lose our partitions as above).
 *
 * Listener callbacks run on one promise chain, in order; `poll` waits for the chain and hands out
 * nothing while an assignment is being applied. The join loop waits for the chain before each
 * JoinGroup, which is what orders onRevoked before the rejoin.
 */
import {
  ConnectionPool,
  heartbeatV4,
  joinGroupV9,
  leaveGroupV5,
  syncGroupV5,
  type Consumer as PltConsumer,
} from '@platformatic/kafka'
import { TributaryError } from '../../errors.js'
import type { RebalanceListener, TopicPartition, TopicPartitionOffset } from '../types.js'
import {
  assign,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  PROTOCOL_NAME,
  type Member,
} from './assignor.js'
import { coordinatorConnection, type Membership } from './coordinator.js'
import { asError, protocolIds, responseIn, toTributaryError } from './errors.js'
import type { Fetcher } from './fetcher.js'
import type { Link } from './link.js'
import { UNREACHABLE_AFTER_MS, type ResolvedConsumerOptions } from './options.js'
import { startOffsets } from './positions.js'
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

interface Joined {
  generation: number
  memberId: string
  leader: boolean
  assignment: TopicPartition[]
  /** The partition counts the leader assigned from (empty on other members). */
  counts: Map<string, number>
}

export class Group {
  readonly groupId: string
  /** The generation and member id of the assignment we hold: commits go out under these. */
  generation = -1
  memberId = ''
  readonly #client: PltConsumer
  readonly #link: Link
  readonly #options: ResolvedConsumerOptions
  readonly #fetcher: Fetcher
  readonly #signal: Signal
  readonly #assigned = new Map<string, TopicPartition>()
  #unstarted: TopicPartition[] = []
  #listener: RebalanceListener = {}
  #topics: string[] = []
  #chain: Promise<void> = Promise.resolve()
  #error: unknown
  /** Membership wanted: between subscribe and close. */
  #active = false
  #leaving = false
  #revokingAll = false
  #phase: 'out' | 'joining' | 'member' = 'out'
  #rejoin = false
  #applying = false
  #announced = false
  #leader = false
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

  constructor(
    groupId: string,
    client: PltConsumer,
    link: Link,
    options: ResolvedConsumerOptions,
    fetcher: Fetcher,
    signal: Signal,
  ) {
    this.groupId = groupId
    this.#client = client
    this.#link = link
    this.#options = options
    this.#fetcher = fetcher
    this.#signal = signal
  }

  get joined(): boolean {
    return this.#active
  }

  /** True while a new assignment is being applied (its callbacks running): poll hands out nothing. */
  get rebalancing(): boolean {
    return this.#applying
  }

  owns(tp: TopicPartition): boolean {
    return this.#assigned.has(key(tp))
  }

  assignment(): TopicPartition[] {
    return [...this.#assigned.values()]
  }

  async subscribe(topics: string[], listener: RebalanceListener = {}): Promise<void> {
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

  /** Waits for pending rebalance work; throws what a listener or a rejoin raised, once. */
  async settled(): Promise<void> {
    await this.#chain
    if (this.#unstarted.length > 0) await this.#start(this.#unstarted)
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

  /**
   * Commits under the generation we hold. When our own rejoin is under way the coordinator may
   * answer REBALANCE_IN_PROGRESS or ILLEGAL_GENERATION: then the commit goes again under the new
   * generation once it is known, if the partitions are still ours (a partition we keep through a
   * rebalance was ours all along; one that leaves is given to nobody until we revoked it).
   */
  async commit(check: () => void, send: (member: Membership) => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      check()
      const generation = this.generation
      try {
        await send({ groupId: this.groupId, generationId: generation, memberId: this.memberId })
        return
      } catch (error) {
        const ids = protocolIds(error)
        const stale = ids.includes('REBALANCE_IN_PROGRESS') || ids.includes('ILLEGAL_GENERATION')
        const rejoining = this.#phase === 'joining' || this.generation !== generation
        if (!stale || !rejoining || attempt >= 3 || !this.#active) throw error
        await this.#untilNotJoining(this.#options.rebalanceTimeoutMs)
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
    try {
      if (memberId !== '') {
        await this.#link.run(`leave group "${this.groupId}"`, async () => {
          const connection = await coordinatorConnection(this.#client)
          try {
            await leaveGroupV5.api.async(connection, this.groupId, [
              { memberId, groupInstanceId: null, reason: 'the consumer is closing' },
            ])
          } catch (error) {
            // Already gone (session expired, or never joined): nothing to leave.
            if (!protocolIds(error).includes('UNKNOWN_MEMBER_ID')) throw error
          }
        })
      }
    } finally {
      this.memberId = ''
      this.generation = -1
      this.#phase = 'out'
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
      let joined: Joined
      try {
        joined = await this.#joinAndSync()
      } catch (error) {
        if (!this.#active) break
        this.#rejoin = true
        const ids = protocolIds(error)
        if (ids.some((id) => LOST.has(id))) this.#lose(ids.includes('UNKNOWN_MEMBER_ID'))
        // Still a member of the generation we hold (our JoinGroup failed, not the group): heartbeat on.
        this.#setPhase(this.generation >= 0 ? 'member' : 'out')
        if (this.#phase === 'member') this.#scheduleHeartbeat()
        if (ids.includes('REBALANCE_IN_PROGRESS') || ids.some((id) => LOST.has(id))) continue
        failures++
        this.#failed(error, ids)
        await this.#pause(Math.min(100 * 2 ** failures, 5_000))
        continue
      }
      failures = 0
      this.#joinFailure = undefined
      this.generation = joined.generation
      this.memberId = joined.memberId
      this.#leader = joined.leader
      this.#counts = joined.counts
      this.#metadataCheckedAt = Date.now()
      this.#announced = false
      this.#setPhase('member')
      this.#scheduleHeartbeat()
      if (!this.#leaving) this.#apply(joined.assignment)
      this.#joins++
    }
    this.#stopHeartbeat()
  }

  /** A failed join: fatal ones are reported (subscribe, then poll); transient ones too if they last. */
  #failed(error: unknown, ids: string[]): void {
    const transient =
      ids.some((id) => TRANSIENT.has(id)) ||
      (error instanceof TributaryError && (error.canRetry || error.code === 'BROKER_UNREACHABLE'))
    const now = Date.now()
    const since = this.#joinFailure?.at ?? now
    this.#joinFailure = { at: since, error }
    if (!transient || now - since >= UNREACHABLE_AFTER_MS) {
      this.#joinFailure = { at: now, error }
      this.#error ??= error
      this.#joins++
      this.#phaseChanged.notify()
      this.#signal.notify()
    }
  }

  async #joinAndSync(): Promise<Joined> {
    const { sessionTimeoutMs, rebalanceTimeoutMs } = this.#options
    const pool = this.#pool!
    const metadata = encodeSubscription({
      topics: this.#topics,
      owned: this.assignment(),
      generation: this.#assigned.size > 0 ? this.generation : -1,
    })
    const join = await this.#link.run(`join group "${this.groupId}"`, async () => {
      for (let attempt = 0; ; attempt++) {
        const connection = await coordinatorConnection(this.#client, pool)
        try {
          return await joinGroupV9.api.async(
            connection,
            this.groupId,
            sessionTimeoutMs,
            rebalanceTimeoutMs,
            this.memberId,
            null,
            'consumer',
            [{ name: PROTOCOL_NAME, metadata }],
            null,
          )
        } catch (error) {
          // KIP-394: a new member first gets its id, then joins with it.
          const given = responseIn<{ memberId?: string | null }>(error)?.memberId
          if (attempt < 3 && protocolIds(error).includes('MEMBER_ID_REQUIRED') && given) {
            this.memberId = given
            continue
          }
          throw error
        }
      }
    })
    const memberId = join.memberId ?? this.memberId
    this.memberId = memberId
    const leader = join.leader === memberId
    let assignments: Array<{ memberId: string; assignment: Buffer }> = []
    let counts = new Map<string, number>()
    if (leader) {
      const members: Member[] = join.members.map((m) => ({
        memberId: m.memberId,
        ...decodeSubscription(m.metadata),
      }))
      counts = await this.#partitionCounts([...new Set(members.flatMap((m) => m.topics))])
      const plan = assign(members, counts)
      assignments = members.map((m) => ({
        memberId: m.memberId,
        assignment: encodeAssignment(plan.get(m.memberId) ?? []),
      }))
    }
    const sync = await this.#link.run(`sync group "${this.groupId}"`, async () => {
      const connection = await coordinatorConnection(this.#client, pool)
      return syncGroupV5.api.async(
        connection,
        this.groupId,
        join.generationId,
        memberId,
        null,
        'consumer',
        join.protocolName ?? PROTOCOL_NAME,
        assignments,
      )
    })
    const wanted = new Set(this.#topics)
    return {
      generation: join.generationId,
      memberId,
      leader,
      assignment: decodeAssignment(sync.assignment).filter((tp) => wanted.has(tp.topic)),
      counts,
    }
  }

  /** Partition counts, fresh from the cluster; 0 for a topic that is gone. */
  async #partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>()
    for (const topic of topics.sort()) {
      try {
        const metadata = await this.#client.metadata({ topics: [topic], forceUpdate: true })
        counts.set(topic, metadata.topics.get(topic)?.partitionsCount ?? 0)
      } catch (error) {
        const mapped = toTributaryError(
          error,
          this.#link.context(`read metadata of topic "${topic}"`, { topic }),
        )
        if (mapped.code !== 'UNKNOWN_TOPIC') throw mapped
        counts.set(topic, 0)
      }
    }
    return counts
  }

  /** Applies a new assignment on the chain; a revocation makes us rejoin once onRevoked is done. */
  #apply(assignment: TopicPartition[]): void {
    this.#applying = true
    const run = async (): Promise<void> => {
      const next = new Map(assignment.map((tp) => [key(tp), tp]))
      const revoked = [...this.#assigned].filter(([k]) => !next.has(k)).map(([, tp]) => tp)
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
        for (const tp of added) this.#assigned.set(key(tp), tp)
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

  /** Membership lost: the partitions may be another member's already; drop them, then tell the listener. */
  #lose(unknownMember: boolean): void {
    this.generation = -1
    if (unknownMember) this.memberId = ''
    this.#leader = false
    const lost = this.assignment()
    this.#assigned.clear()
    this.#unstarted = []
    this.#fetcher.remove(lost)
    if (lost.length === 0) return
    this.#applying = true
    this.#chain = this.#chain
      .then(() => this.#call('onRevoked', lost))
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
    let ids: string[] = []
    try {
      const connection = await coordinatorConnection(this.#client)
      await heartbeatV4.api.async(connection, this.groupId, generation, memberId, null)
      if (this.#leader && Date.now() - this.#metadataCheckedAt >= METADATA_CHECK_MS)
        await this.#checkMetadata()
    } catch (error) {
      ids = protocolIds(error)
    } finally {
      this.#heartbeating = false
    }
    // A rejoin happened meanwhile: this answer is about a generation we no longer hold.
    if (this.generation !== generation || this.memberId !== memberId || this.#phase !== 'member') {
      if (this.#phase === 'member') this.#scheduleHeartbeat()
      return
    }
    if (ids.includes('REBALANCE_IN_PROGRESS')) {
      this.#announce()
      this.#requestRejoin()
    } else if (ids.some((id) => LOST.has(id))) {
      this.#announce()
      this.#lose(ids.includes('UNKNOWN_MEMBER_ID') || ids.includes('FENCED_INSTANCE_ID'))
      this.#setPhase('out')
      this.#requestRejoin()
      return
    }
    // Other failures (coordinator moving, network): the next heartbeat tries again.
    this.#scheduleHeartbeat()
  }

  /** The leader starts a rebalance when a subscribed topic gained partitions (or went away). */
  async #checkMetadata(): Promise<void> {
    this.#metadataCheckedAt = Date.now()
    const counts = await this.#partitionCounts([...this.#counts.keys()])
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
      if (!this.#active) throw new TributaryError('CLOSED', 'The consumer is closed')
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

  /** Starts fetching at the group's committed offset, or per offsetReset; retried by the next poll on failure. */
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
        this.groupId,
        this.#options.offsetReset,
      )
      this.#unstarted = this.#unstarted.filter((tp) => !wanted.some((w) => key(w) === key(tp)))
      this.#fetcher.add(positions.filter((p) => this.#assigned.has(key(p)) && !this.#fetcher.has(p)))
    } catch (error) {
      for (const tp of wanted) if (!this.#unstarted.some((u) => key(u) === key(tp))) this.#unstarted.push(tp)
      this.#error ??= error
    }
  }

  async #call(name: 'onAssigned' | 'onRevoked', partitions: TopicPartition[]): Promise<void> {
    try {
      await this.#listener[name]?.(partitions)
    } catch (error) {
      this.#error ??= error
    }
  }
}
