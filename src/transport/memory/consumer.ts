/**
 * The embedded broker's consumer: assign() or subscribe() (see membership.ts for the group side),
 * and a poll() that reconciles the group, fetches, and otherwise waits on append events (no spinning).
 */
/* eslint-disable @typescript-eslint/require-await -- async like a network client: throws become rejections */
import { coordinates, TributaryError } from '../../errors.js'
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
import type { MemoryBroker } from './broker.js'
import { checkAssignor, resolveConsumerOptions, type ResolvedConsumerOptions } from './consumer-options.js'
import { Fetcher } from './fetcher.js'
import type { Group } from './group/coordinator.js'
import { Membership } from './membership.js'
import { checkOffset, closedError, isList } from './util.js'

export class MemoryConsumer implements Consumer {
  readonly groupId: string | undefined
  private readonly fetcher: Fetcher
  private readonly options: ResolvedConsumerOptions
  private mode: 'none' | 'assign' | 'subscribe' = 'none'
  private membership: Membership | undefined
  private inflight: Promise<unknown> | undefined
  private waiter: (() => void) | undefined
  private closing = false
  private closed = false

  constructor(
    /** @internal */ readonly broker: MemoryBroker,
    options: ConsumerOptions,
    private readonly onClose: () => void,
  ) {
    this.options = resolveConsumerOptions(options)
    this.groupId = this.options.groupId
    const { isolationLevel, offsetReset, maxBufferedRecordsPerPartition } = this.options
    this.fetcher = new Fetcher(
      broker,
      isolationLevel === 'read_committed',
      offsetReset,
      this.groupId,
      maxBufferedRecordsPerPartition,
    )
  }

  /** @internal The client.id, which fault injection may filter on. */
  get clientId(): string {
    return this.options.clientId
  }

  async subscribe(
    topics: string[],
    listener: RebalanceListener = {},
    options: SubscribeOptions = {},
  ): Promise<void> {
    this.ensureOpen()
    const groupId = this.requireGroup('subscribe()')
    if (this.mode === 'assign')
      throw new TributaryError('INVALID_ARGUMENT', 'subscribe() and assign() cannot be mixed on one consumer')
    if (!isList(topics) || topics.length === 0)
      throw new TributaryError('INVALID_ARGUMENT', 'subscribe() needs at least one topic')
    const assignor = checkAssignor(options?.assignor)
    for (const topic of topics) this.broker.topic(topic)
    const unique = [...new Set(topics)]
    if (this.membership) this.membership.resubscribe(unique, listener ?? {}, assignor)
    else {
      const { clientId, groupInstanceId, sessionTimeoutMs, heartbeatIntervalMs } = this.options
      this.membership = new Membership(
        this.broker,
        { groupId, clientId, instanceId: groupInstanceId, sessionTimeoutMs, heartbeatIntervalMs },
        this.fetcher,
        () => this.wake(),
        unique,
        listener ?? {},
        assignor,
      )
    }
    this.mode = 'subscribe'
  }

  async assign(partitions: PartitionStart[]): Promise<void> {
    this.ensureOpen()
    if (this.mode === 'subscribe')
      throw new TributaryError('INVALID_ARGUMENT', 'assign() and subscribe() cannot be mixed on one consumer')
    if (!isList(partitions))
      throw new TributaryError('INVALID_ARGUMENT', 'assign() takes a list of partitions')
    // Resolve every start first, so a bad entry leaves the current assignment untouched.
    const starts = partitions.map(({ topic, partition, from }) => {
      const log = this.broker.log(topic, partition)
      const spec = from ?? (this.groupId === undefined ? 'latest' : 'committed')
      if (spec === 'committed') this.requireGroup("assign() from 'committed'")
      if (typeof spec === 'number') checkOffset(topic, partition, spec, 'start offset')
      return { topic, partition, offset: this.fetcher.resolve(log, spec) }
    })
    this.fetcher.clear()
    for (const { topic, partition, offset } of starts) this.fetcher.add(topic, partition, offset)
    this.mode = 'assign'
    this.wake()
  }

  async poll(options: PollOptions = {}): Promise<ConsumedRecord[]> {
    this.ensureOpen()
    const { timeoutMs = 1000, maxRecords = 10000 } = options
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))
      throw new TributaryError('INVALID_ARGUMENT', `Invalid poll timeoutMs ${timeoutMs}`)
    if (!Number.isInteger(maxRecords) || maxRecords < 1)
      throw new TributaryError('INVALID_ARGUMENT', `Invalid poll maxRecords ${maxRecords}`)
    if (this.inflight) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        'poll() is already running on this consumer: a consumer is not safe for concurrent polls',
      )
    }
    const run = this.runPoll(timeoutMs, maxRecords)
    this.inflight = run
    try {
      return await run
    } finally {
      this.inflight = undefined
    }
  }

  private async runPoll(timeoutMs: number, max: number): Promise<ConsumedRecord[]> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (this.closing) return []
      this.broker.check()
      if (this.membership) await this.membership.reconcile(() => this.closing)
      if (this.closing) return []
      // A fetch request goes out only for partitions that may be fetched, so only then can it fail.
      if (this.fetcher.fetchable()) this.broker.faults.check('fetch', this.clientId, 'fetch')
      const records = this.fetcher.fetch(max)
      if (records.length > 0) return records
      const left = deadline - Date.now()
      if (left <= 0) return []
      await this.waitForChange(left)
    }
  }

  /** Waits for an append to an assigned partition, a group change, close(), or the timeout. */
  private waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let fired = false
      const done = (): void => {
        if (fired) return
        fired = true
        clearTimeout(timer)
        this.fetcher.unwatch(done)
        if (this.waiter === done) this.waiter = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      if (!this.broker.pollsHoldProcess) timer.unref()
      this.fetcher.watch(done)
      this.waiter = done
    })
  }

  private wake(): void {
    this.waiter?.()
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    this.ensureOpen(true)
    const group = this.checkOffsets(offsets, 'commit')
    this.broker.faults.check('commit', this.clientId, `commit offsets for group ${group.id}`)
    group.store(offsets)
  }

  /** @internal For Transaction.sendOffsets: validates like a commit and returns the group to commit to. */
  groupForTransaction(broker: MemoryBroker, offsets: readonly TopicPartitionOffset[]): Group {
    if (broker !== this.broker)
      throw new TributaryError('INVALID_ARGUMENT', 'The consumer belongs to another memory broker')
    this.ensureOpen(true)
    return this.checkOffsets(offsets, 'send offsets of')
  }

  /** Validates offsets and ownership; REBALANCE for a partition this consumer does not hold. */
  private checkOffsets(offsets: readonly TopicPartitionOffset[], action: string): Group {
    const groupId = this.requireGroup(`${action} offsets`)
    if (!isList(offsets)) throw new TributaryError('INVALID_ARGUMENT', `Offsets to ${action} must be a list`)
    for (const { topic, partition, offset } of offsets) checkOffset(topic, partition, offset)
    if (this.membership) return this.membership.checkOwned(offsets)
    const group = this.broker.group(groupId)
    for (const { topic, partition } of offsets) {
      if (!this.fetcher.has(topic, partition)) {
        throw new TributaryError(
          'REBALANCE',
          `Cannot ${action} ${coordinates(topic, partition)} for group ${groupId}: the partition is not assigned to this consumer`,
          { topic, partition },
        )
      }
    }
    group.checkStandalone()
    return group
  }

  async committed(partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    this.ensureOpen(true)
    const group = this.broker.groups.get(this.requireGroup('committed()'))
    const out: TopicPartitionOffset[] = []
    for (const { topic, partition } of partitions) {
      const offset = group?.committed(topic, partition)
      if (offset !== undefined) out.push({ topic, partition, offset })
    }
    return out
  }

  seek(position: TopicPartitionOffset): void {
    this.ensureOpen(true)
    const { topic, partition, offset } = position
    this.fetcher.seek(topic, partition, checkOffset(topic, partition, offset))
  }

  assignment(): TopicPartition[] {
    return this.fetcher.list()
  }

  pause(partitions: TopicPartition[]): void {
    this.ensureOpen(true)
    this.fetcher.setPaused(checkPartitions(partitions, 'pause()'), true)
  }

  resume(partitions: TopicPartition[]): void {
    this.ensureOpen(true)
    this.fetcher.setPaused(checkPartitions(partitions, 'resume()'), false)
    this.wake() // a waiting poll may have records to return now
  }

  paused(): TopicPartition[] {
    return this.fetcher.paused()
  }

  position(partition: TopicPartition): number | undefined {
    return this.fetcher.position(partition.topic, partition.partition)
  }

  watermarks(partition: TopicPartition): Watermarks | undefined {
    return this.fetcher.watermarks(partition.topic, partition.partition)
  }

  enforceRebalance(_reason?: string): void {
    this.ensureOpen(true)
    this.membership?.enforceRebalance()
  }

  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    this.wake()
    await this.inflight?.catch(() => undefined)
    const failure = await this.membership?.leave()
    this.fetcher.clear()
    this.closed = true
    this.onClose()
    if (failure !== undefined) throw failure as Error
  }

  private ensureOpen(allowClosing = false): void {
    if (this.closed || (this.closing && !allowClosing)) throw closedError('consumer')
    this.broker.check()
  }

  private requireGroup(action: string): string {
    if (this.groupId === undefined)
      throw new TributaryError('INVALID_ARGUMENT', `${action} needs a consumer with a groupId`)
    return this.groupId
  }
}

function checkPartitions(partitions: TopicPartition[], action: string): TopicPartition[] {
  if (!isList(partitions))
    throw new TributaryError('INVALID_ARGUMENT', `${action} takes a list of partitions`)
  for (const tp of partitions) {
    if (
      typeof tp !== 'object' ||
      tp === null ||
      typeof tp.topic !== 'string' ||
      !Number.isInteger(tp.partition)
    )
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `${action}: ${JSON.stringify(tp)} is not a topic partition`,
      )
  }
  return partitions
}
