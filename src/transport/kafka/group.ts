/**
 * Classic consumer-group membership on platformatic's joinGroup, turned into our callbacks.
 *
 * Platformatic joins, heartbeats and rejoins by itself (a heartbeat answered REBALANCE_IN_PROGRESS
 * or UNKNOWN_MEMBER_ID starts a JoinGroup at once) and emits `consumer:group:join` with the new
 * assignment after each SyncGroup. We diff that against what we hold: revoked partitions are
 * dropped first (buffered records gone, commits refused), then onRevoked runs; added partitions get
 * their start offsets (the group's commit, else offsetReset) before onAssigned runs. All of it runs
 * on one promise chain, in event order; `poll` waits for the chain and hands out nothing while a
 * rebalance is under way, so a record of a partition is never returned after it moved.
 */
import type { Consumer as PltConsumer, ConsumerGroupJoinPayload } from '@platformatic/kafka'
import type { RebalanceListener, TopicPartition, TopicPartitionOffset } from '../types.js'
import { asError } from './errors.js'
import type { Fetcher } from './fetcher.js'
import type { Link } from './link.js'
import type { ResolvedConsumerOptions } from './options.js'
import { startOffsets } from './positions.js'
import type { Signal } from './signal.js'

const key = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`

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
  #chain: Promise<void> = Promise.resolve()
  #error: unknown
  #rebalancing = false
  #rejoin = false
  #joined = false

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
    client.on('consumer:group:join', (payload) => {
      this.#rebalancing = true
      this.#chain = this.#chain
        .then(() => this.#apply(payload))
        .catch((error: unknown) => {
          this.#error ??= error
        })
    })
    client.on('consumer:group:rebalance', () => {
      this.#rebalancing = true
      // Platformatic sends JoinGroup right after this event: a commit started now may still land
      // under the current generation, so the records processed so far are not redelivered.
      try {
        this.#listener.onRebalanceStarting?.()
      } catch (error) {
        this.#error ??= error
      }
    })
    // A background rejoin that failed for good: the next poll joins again (and reports it if that fails).
    client.on('error', () => {
      this.#rejoin = true
      this.#signal.notify()
    })
  }

  get joined(): boolean {
    return this.#joined
  }

  /** True from the moment a rebalance is known until its new assignment is in place. */
  get rebalancing(): boolean {
    return this.#rebalancing || (this.#joined && this.#client.generationId !== this.generation)
  }

  owns(tp: TopicPartition): boolean {
    return this.#assigned.has(key(tp))
  }

  assignment(): TopicPartition[] {
    return [...this.#assigned.values()]
  }

  async subscribe(topics: string[], listener: RebalanceListener = {}): Promise<void> {
    this.#listener = listener
    this.#client.topics.untrackAll(...this.#client.topics.current)
    this.#client.topics.trackAll(...topics)
    const wasJoined = this.#joined
    this.#joined = true
    try {
      await this.#join()
    } catch (error) {
      // Not a member: poll must not wait for a rebalance that is not coming.
      this.#joined = wasJoined
      throw error
    }
    await this.settled()
  }

  #join(): Promise<string> {
    const { sessionTimeoutMs, rebalanceTimeoutMs, heartbeatIntervalMs } = this.#options
    return this.#link.run(`join group "${this.groupId}"`, () =>
      this.#client.joinGroup({
        sessionTimeout: sessionTimeoutMs,
        rebalanceTimeout: rebalanceTimeoutMs,
        heartbeatInterval: heartbeatIntervalMs,
      }),
    )
  }

  /** Waits for pending rebalance work; throws what a listener or a rejoin raised, once. */
  async settled(): Promise<void> {
    await this.#chain
    if (this.#rejoin) {
      await this.#join()
      this.#rejoin = false
      await this.#chain
    }
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

  async #apply(payload: ConsumerGroupJoinPayload): Promise<void> {
    const next = new Map<string, TopicPartition>()
    for (const { topic, partitions } of payload.assignments ?? []) {
      for (const partition of partitions) next.set(key({ topic, partition }), { topic, partition })
    }
    const revoked = [...this.#assigned].filter(([k]) => !next.has(k)).map(([, tp]) => tp)
    const added = [...next].filter(([k]) => !this.#assigned.has(k)).map(([, tp]) => tp)
    // Revoked first: from here their buffered records are gone and a commit for them is refused.
    for (const tp of revoked) this.#assigned.delete(key(tp))
    this.#unstarted = this.#unstarted.filter((tp) => next.has(key(tp)))
    this.#fetcher.remove(revoked)
    this.generation = payload.generationId ?? -1
    this.memberId = payload.memberId
    if (revoked.length > 0) await this.#call('onRevoked', revoked)
    if (added.length > 0) {
      for (const tp of added) this.#assigned.set(key(tp), tp)
      await this.#start(added)
      await this.#call('onAssigned', added)
    }
    this.#rebalancing = false
    this.#signal.notify()
  }

  /** Starts fetching at the group's committed offset, or per offsetReset; retried by the next poll on failure. */
  async #start(partitions: TopicPartition[]): Promise<void> {
    const wanted = partitions.filter((tp) => this.#assigned.has(key(tp)) && !this.#fetcher.has(tp))
    try {
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

  /** Before leaving: the partitions are no longer ours, and the listener hears it. */
  async revokeAll(): Promise<void> {
    await this.#chain.catch(() => undefined)
    const owned = this.assignment()
    this.#assigned.clear()
    this.#unstarted = []
    this.#fetcher.remove(owned)
    if (owned.length > 0) await this.#call('onRevoked', owned)
    this.#joined = false
  }
}
