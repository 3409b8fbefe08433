/**
 * The Consumer interface: group membership (group.ts), fetching (fetcher.ts), commits
 * (coordinator.ts). A cluster outage does not end it: its parts retry until the cluster answers,
 * and `poll` throws one TributaryError with canRetry: true per outage that lasts
 * UNREACHABLE_AFTER_MS (outage.ts), for the caller to log before it polls on.
 */
import { randomUUID } from 'node:crypto'
import { Consumer as PltConsumer } from '@platformatic/kafka'
import { TributaryError } from '../../errors.js'
import type {
  ConsumedRecord,
  Consumer,
  ConsumerOptions,
  PartitionStart,
  PollOptions,
  RebalanceListener,
  SubscribeOptions,
  TopicPartition,
  TopicPartitionOffset,
  Watermarks,
} from '../types.js'
import { GroupCoordinator, type Membership } from './coordinator.js'
import { asError } from './errors.js'
import { Fetcher } from './fetcher.js'
import { Group } from './group.js'
import { Link } from './link.js'
import { Outage } from './outage.js'
import {
  baseOptions,
  resolveConsumerOptions,
  UNREACHABLE_AFTER_MS,
  type ResolvedConnection,
  type ResolvedConsumerOptions,
} from './options.js'
import { checkPartitions, startOffsets } from './positions.js'
import { Signal } from './signal.js'

const byTopicPartition = (a: TopicPartition, b: TopicPartition): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition

/** What a transaction needs to commit offsets for this consumer's group (KIP-447 fencing included). */
export interface GroupMetadata {
  client: PltConsumer
  groupId: string
  generationId: number
  memberId: string
  coordinatorId: number
}

export class KafkaConsumer implements Consumer {
  readonly groupId: string | undefined
  readonly #client: PltConsumer
  readonly #link: Link
  readonly #options: ResolvedConsumerOptions
  readonly #signal = new Signal()
  readonly #outage = new Outage(this.#signal)
  readonly #fetcher: Fetcher
  readonly #coordinator: GroupCoordinator | undefined
  readonly #group: Group | undefined
  readonly #onClose: () => void
  #mode: 'none' | 'subscribe' | 'assign' = 'none'
  #closing: Promise<void> | undefined

  constructor(connection: ResolvedConnection, options: ConsumerOptions, onClose: () => void) {
    this.#options = resolveConsumerOptions(options)
    const { groupId, clientId, sessionTimeoutMs, heartbeatIntervalMs, rebalanceTimeoutMs, maxWaitMs } =
      this.#options
    this.groupId = groupId
    this.#client = new PltConsumer({
      ...baseOptions(connection, clientId),
      // Platformatic wants a group id even to fetch. Without ours, a private name that no request
      // carries: assign() never joins, commits nor looks up a coordinator, so no group is created.
      groupId: groupId ?? `tributary-assign-${randomUUID()}`,
      autocommit: false,
      isolationLevel: this.#options.isolationLevel === 'read_committed' ? 1 : 0,
      maxWaitTime: maxWaitMs,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: heartbeatIntervalMs,
      rebalanceTimeout: rebalanceTimeoutMs,
    })
    this.#link = new Link(connection)
    const fetcherOptions = {
      readCommitted: this.#options.isolationLevel === 'read_committed',
      maxWaitMs,
      offsetReset: this.#options.offsetReset,
      maxBufferedRecordsPerPartition: this.#options.maxBufferedRecordsPerPartition,
    }
    this.#fetcher = new Fetcher(this.#client, this.#link, fetcherOptions, this.#signal, this.#outage)
    if (groupId !== undefined) {
      this.#coordinator = new GroupCoordinator(this.#client, groupId)
      this.#group = new Group(groupId, this.#options, {
        client: this.#client,
        link: this.#link,
        coordinator: this.#coordinator,
        fetcher: this.#fetcher,
        signal: this.#signal,
        outage: this.#outage,
      })
    }
    this.#onClose = onClose
  }

  async subscribe(topics: string[], listener?: RebalanceListener, options?: SubscribeOptions): Promise<void> {
    this.#checkOpen('subscribe')
    if (!this.#group)
      throw new TributaryError('INVALID_ARGUMENT', 'subscribe needs a consumer created with a groupId')
    if (this.#mode === 'assign')
      throw new TributaryError(
        'INVALID_ARGUMENT',
        'This consumer uses assign(); a consumer either assigns or subscribes',
      )
    if (topics.length === 0)
      throw new TributaryError('INVALID_ARGUMENT', 'subscribe needs at least one topic')
    // A topic the cluster does not have is an error here (no auto-creation), not an empty assignment.
    for (const topic of topics) {
      await this.#link.run(
        `subscribe to topic "${topic}"`,
        () => this.#client.metadata({ topics: [topic] }),
        { topic },
      )
    }
    this.#mode = 'subscribe'
    await this.#group.subscribe(topics, listener, options)
  }

  async assign(partitions: PartitionStart[]): Promise<void> {
    this.#checkOpen('assign')
    if (this.#mode === 'subscribe')
      throw new TributaryError(
        'INVALID_ARGUMENT',
        'This consumer subscribed; a consumer either assigns or subscribes',
      )
    await checkPartitions(this.#client, this.#link, partitions)
    const fallback = this.groupId === undefined ? 'latest' : 'committed'
    const requests = partitions.map(({ topic, partition, from }) => ({
      topic,
      partition,
      from: from ?? fallback,
    }))
    const positions = await startOffsets(
      this.#client,
      this.#link,
      requests,
      this.#coordinator,
      this.#options.offsetReset,
    )
    const wanted = new Set(partitions.map((p) => `${p.topic}:${p.partition}`))
    this.#fetcher.remove(this.#fetcher.partitions().filter((p) => !wanted.has(`${p.topic}:${p.partition}`)))
    this.#fetcher.add(positions)
    this.#mode = 'assign'
    this.#signal.notify()
  }

  async poll(options: PollOptions = {}): Promise<ConsumedRecord[]> {
    const timeoutMs = options.timeoutMs ?? 1_000
    const maxRecords = options.maxRecords ?? 10_000
    if (!Number.isInteger(maxRecords) || maxRecords < 1) {
      throw new TributaryError('INVALID_ARGUMENT', `maxRecords must be a positive integer, got ${maxRecords}`)
    }
    const deadline = Date.now() + timeoutMs
    for (;;) {
      this.#checkOpen('poll')
      // Also after the membership ended for good (fenced): its error is told here.
      if (this.#group && this.#mode === 'subscribe') await this.#group.settled()
      const failure = this.#fetcher.takeFailure() ?? this.#outage.take()
      if (failure) throw failure
      if (!this.#group?.rebalancing) {
        const records = this.#fetcher.take(maxRecords)
        if (records.length > 0) return records
      }
      const left = deadline - Date.now()
      if (left <= 0) return []
      await this.#signal.wait(left)
    }
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    // While close() runs onRevoked we are still a member: the listener's final commit goes through.
    if (!this.#group?.revokingAll) this.#checkOpen('commit')
    const groupId = this.#requireGroup('commit')
    for (const o of offsets) {
      if (!Number.isInteger(o.offset) || o.offset < 0) {
        throw new TributaryError(
          'INVALID_ARGUMENT',
          `Commit offset must be a non-negative integer, got ${o.offset}`,
          o,
        )
      }
    }
    this.#checkOwned(offsets)
    if (offsets.length === 0) return
    const topic = offsets.length === 1 ? offsets[0]?.topic : undefined
    const coordinator = this.#coordinator!
    const send = (member: Membership): Promise<void> =>
      this.#link.run(`commit offsets for group "${groupId}"`, () => coordinator.commit(member, offsets), {
        topic,
        group: groupId,
      })
    if (this.#mode === 'subscribe' && this.#group)
      await this.#group.commit(offsets, () => this.#checkOwned(offsets), send)
    else await send({ groupId, generationId: -1, memberId: '' })
  }

  /** Sends offsets into a transaction of `producer`, as commit() does (same checks, same member), in one request. */
  async commitInTransaction(
    producer: { transactionalId: string; producerId: bigint; producerEpoch: number },
    offsets: TopicPartitionOffset[],
  ): Promise<void> {
    this.#checkOpen('send offsets')
    const groupId = this.#requireGroup('sendOffsets')
    this.#checkOwned(offsets)
    if (offsets.length === 0) return
    const coordinator = this.#coordinator!
    const send = (member: Membership): Promise<void> =>
      this.#link.run(
        `send offsets of group "${groupId}" in a transaction`,
        () => coordinator.commitInTransaction(member, producer, offsets),
        { group: groupId },
      )
    if (this.#mode === 'subscribe' && this.#group)
      await this.#group.commit(offsets, () => this.#checkOwned(offsets), send)
    else await send({ groupId, generationId: -1, memberId: '' })
  }

  /** A stale member must not overwrite what the partition's new owner committed. */
  #checkOwned(offsets: TopicPartitionOffset[]): void {
    for (const o of offsets) {
      const owned = this.#mode === 'subscribe' ? this.#group?.owns(o) : this.#fetcher.has(o)
      if (!owned) {
        throw new TributaryError(
          'REBALANCE',
          `Cannot commit ${o.topic}[${o.partition}]: it is not assigned to this consumer (any more)`,
          {
            topic: o.topic,
            partition: o.partition,
            offset: o.offset,
          },
        )
      }
    }
  }

  async committed(partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    this.#checkOpen('committed')
    const groupId = this.#requireGroup('committed')
    if (partitions.length === 0) return []
    const coordinator = this.#coordinator!
    const committed = await this.#link.run(`read committed offsets of group "${groupId}"`, () =>
      coordinator.committed(partitions),
    )
    return partitions.flatMap(({ topic, partition }) => {
      const offset = committed.get(`${topic}:${partition}`)
      return offset === undefined ? [] : [{ topic, partition, offset }]
    })
  }

  seek(position: TopicPartitionOffset): void {
    this.#checkOpen('seek')
    if (!Number.isInteger(position.offset) || position.offset < 0) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Seek offset must be a non-negative integer, got ${position.offset}`,
        position,
      )
    }
    if (this.#fetcher.seek(position) || this.#group?.seekUnstarted(position)) return
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `Cannot seek ${position.topic}[${position.partition}]: it is not assigned to this consumer`,
      {
        topic: position.topic,
        partition: position.partition,
      },
    )
  }

  assignment(): TopicPartition[] {
    const partitions =
      this.#mode === 'subscribe' && this.#group ? this.#group.assignment() : this.#fetcher.partitions()
    return partitions.sort(byTopicPartition)
  }

  /** Whether a partition is ours now (a group's assignment, or what assign() named). */
  #assigned(tp: TopicPartition): boolean {
    return this.#mode === 'subscribe' ? this.#group?.owns(tp) === true : this.#fetcher.has(tp)
  }

  pause(partitions: TopicPartition[]): void {
    this.#checkOpen('pause')
    this.#fetcher.setPaused(
      partitions.filter((tp) => this.#assigned(tp)),
      true,
    )
  }

  resume(partitions: TopicPartition[]): void {
    this.#checkOpen('resume')
    this.#fetcher.setPaused(
      partitions.filter((tp) => this.#assigned(tp)),
      false,
    )
  }

  paused(): TopicPartition[] {
    return this.#fetcher
      .paused()
      .filter((tp) => this.#assigned(tp))
      .sort(byTopicPartition)
  }

  position(partition: TopicPartition): number | undefined {
    if (!this.#assigned(partition)) return undefined
    return this.#fetcher.position(partition)
  }

  watermarks(partition: TopicPartition): Watermarks | undefined {
    if (!this.#assigned(partition)) return undefined
    return this.#fetcher.watermarks(partition)
  }

  enforceRebalance(reason?: string): void {
    this.#checkOpen('enforce a rebalance')
    if (this.#mode === 'subscribe') this.#group?.enforceRebalance(reason)
  }

  /** For Transaction.sendOffsets: the group, and the generation whose assignment this member holds. */
  async groupMetadata(): Promise<GroupMetadata> {
    this.#checkOpen('send offsets')
    const groupId = this.#requireGroup('sendOffsets')
    const coordinator = this.#coordinator!
    const coordinatorId = await this.#link.run(`find the coordinator of group "${groupId}"`, () =>
      coordinator.nodeId(),
    )
    const member = this.#mode === 'subscribe' ? this.#group : undefined
    return {
      client: this.#client,
      groupId,
      generationId: member ? member.generation : -1,
      memberId: member ? member.memberId : '',
      coordinatorId,
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    this.#onClose()
    let failure: unknown
    if (this.#group?.joined) await this.#group.revokeAll().catch((error: unknown) => (failure = error))
    await this.#fetcher.close()
    this.#signal.notify()
    // Leaving the group (LeaveGroup) hands our partitions over at once rather than after a session timeout.
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<'late'>(
      (resolve) => (timer = setTimeout(() => resolve('late'), UNREACHABLE_AFTER_MS)),
    )
    // Our own LeaveGroup (the group is ours, not platformatic's), then the client's connections.
    const left = this.#group ? this.#group.leave() : Promise.resolve()
    const closed = left
      .then(() => this.#client.close())
      .then(
        () => 'closed' as const,
        () => 'failed' as const,
      )
    const outcome = await Promise.race([closed, deadline])
    clearTimeout(timer)
    // Could not leave (broker gone): still release every connection.
    if (outcome !== 'closed') await this.#client.connections.close().catch(() => undefined)
    if (failure !== undefined) throw asError(failure)
  }

  #requireGroup(what: string): string {
    if (this.groupId === undefined)
      throw new TributaryError('INVALID_ARGUMENT', `${what} needs a consumer created with a groupId`)
    return this.groupId
  }

  #checkOpen(what: string): void {
    if (this.#closing) throw new TributaryError('CLOSED', `Cannot ${what}: the consumer is closed`)
  }
}
