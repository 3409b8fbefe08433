/**
 * A consumer's read positions and its fetch over them: offset order within a partition, fair shares
 * across partitions (the starting partition rotates, so a deep backlog cannot starve the others), at
 * most `perPartition` records of one partition per poll (Kafka's consumer buffers that many per
 * partition ahead of poll; here the log is read synchronously, so the bound applies per poll).
 * Paused partitions are not read; their position stays where it is, so nothing is lost or repeated.
 */
import { coordinates, TributaryError } from '../../errors.js'
import type { ConsumedRecord, OffsetReset, StartOffset, TopicPartition, Watermarks } from '../types.js'
import type { MemoryBroker } from './broker.js'
import { maintain } from './cleaner.js'
import type { PartitionLog } from './log.js'
import { sortedTps, tpKey } from './util.js'

interface Position {
  topic: string
  partition: number
  /** The next offset to read; undefined until resolved from the committed offset (or the reset policy). */
  offset: number | undefined
  paused: boolean
  /** What the latest fetch of the partition said of its log. */
  watermarks: Watermarks | undefined
}

export class Fetcher {
  private readonly positions = new Map<string, Position>()
  private turn = 0

  constructor(
    private readonly broker: MemoryBroker,
    private readonly readCommitted: boolean,
    private readonly offsetReset: OffsetReset,
    private readonly groupId: string | undefined,
    private readonly perPartition: number,
  ) {}

  add(topic: string, partition: number, offset: number | undefined): void {
    this.positions.set(tpKey(topic, partition), {
      topic,
      partition,
      offset,
      paused: false,
      watermarks: undefined,
    })
  }

  remove(topic: string, partition: number): void {
    this.positions.delete(tpKey(topic, partition))
  }

  has(topic: string, partition: number): boolean {
    return this.positions.has(tpKey(topic, partition))
  }

  clear(): void {
    this.positions.clear()
  }

  list(): TopicPartition[] {
    return sortedTps(this.positions.values())
  }

  /** Pauses or resumes assigned partitions; unknown ones are ignored, as Kafka's consumer does. */
  setPaused(partitions: readonly TopicPartition[], paused: boolean): void {
    for (const { topic, partition } of partitions) {
      const position = this.positions.get(tpKey(topic, partition))
      if (position) position.paused = paused
    }
  }

  paused(): TopicPartition[] {
    return sortedTps([...this.positions.values()].filter((p) => p.paused))
  }

  /** True when some assigned partition may be fetched (a fetch request would go out). */
  fetchable(): boolean {
    for (const position of this.positions.values()) if (!position.paused) return true
    return false
  }

  position(topic: string, partition: number): number | undefined {
    return this.positions.get(tpKey(topic, partition))?.offset
  }

  watermarks(topic: string, partition: number): Watermarks | undefined {
    const watermarks = this.positions.get(tpKey(topic, partition))?.watermarks
    return watermarks && { ...watermarks }
  }

  seek(topic: string, partition: number, offset: number): void {
    const position = this.positions.get(tpKey(topic, partition))
    if (!position) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Cannot seek ${coordinates(topic, partition)}: the partition is not assigned to this consumer`,
        { topic, partition },
      )
    }
    position.offset = offset
  }

  /** Where a start spec points now. 'latest' is the last stable offset for read_committed, as in Kafka. */
  resolve(log: PartitionLog, from: StartOffset): number {
    if (typeof from === 'number') return from
    if (from === 'earliest') return log.startOffset
    if (from === 'latest') return this.readCommitted ? log.lastStableOffset : log.endOffset
    if (from === 'committed') {
      const committed =
        this.groupId === undefined
          ? undefined
          : this.broker.groups.get(this.groupId)?.committed(log.topic, log.partition)
      return committed ?? this.reset(log, `group ${this.groupId} has no committed offset for it`)
    }
    if (typeof from === 'object' && from !== null && typeof from.timestamp === 'number') {
      return log.offsetForTimestamp(from.timestamp)
    }
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `Invalid start offset ${JSON.stringify(from)} for ${coordinates(log.topic, log.partition)}`,
    )
  }

  /** offsetReset: where to go when there is no valid offset; 'none' makes it an error, as Kafka's consumer does. */
  private reset(log: PartitionLog, why: string): number {
    if (this.offsetReset === 'earliest') return log.startOffset
    if (this.offsetReset === 'latest') return this.readCommitted ? log.lastStableOffset : log.endOffset
    // Kafka's NoOffsetForPartition / OffsetOutOfRange: a broker-side condition, so code KAFKA as on kafka://.
    throw new TributaryError(
      'KAFKA',
      `No valid offset to read ${coordinates(log.topic, log.partition)} from: ${why}, and offsetReset is 'none'`,
      { topic: log.topic, partition: log.partition },
    )
  }

  /**
   * Reads up to `max` records: first a fair share per partition in rotating order, then fills what is
   * left, never more than `perPartition` of one partition.
   */
  fetch(max: number): ConsumedRecord[] {
    const now = Date.now()
    const ready: Array<[Position, PartitionLog]> = []
    for (const position of this.positions.values()) {
      if (position.paused) continue
      const log = this.broker.findLog(position.topic, position.partition)
      if (!log) continue // deleted topic: Kafka's consumer too just gets nothing for it
      maintain(log, now)
      // The high watermark is the log end offset on a single node (every write is replicated).
      position.watermarks = { highWatermark: log.endOffset, lastStableOffset: log.lastStableOffset }
      if (position.offset === undefined) position.offset = this.resolve(log, 'committed')
      else if (position.offset < log.startOffset || position.offset > log.endOffset) {
        const range = `[${log.startOffset}, ${log.endOffset}]`
        position.offset = this.reset(log, `offset ${position.offset} is out of range ${range}`)
      }
      ready.push([position, log])
    }
    const out: ConsumedRecord[] = []
    if (ready.length === 0) return out
    const first = this.turn++ % ready.length
    const share = Math.max(1, Math.ceil(max / ready.length))
    const taken = new Array<number>(ready.length).fill(0)
    for (let pass = 0; pass < 2 && out.length < max; pass++) {
      for (let i = 0; i < ready.length && out.length < max; i++) {
        const index = (first + i) % ready.length
        const [position, log] = ready[index]!
        const budget = this.perPartition - taken[index]!
        const room = Math.min(pass === 0 ? share : Infinity, budget, max - out.length)
        if (room <= 0) continue
        const before = out.length
        position.offset = log.read(position.offset!, room, this.readCommitted, out)
        taken[index]! += out.length - before
      }
    }
    return out
  }

  /** Registers a wake-up on every assigned partition's log (appends and transaction markers fire it). */
  watch(wake: () => void): void {
    for (const { topic, partition, paused } of this.positions.values())
      if (!paused) this.broker.findLog(topic, partition)?.waiters.add(wake)
  }

  unwatch(wake: () => void): void {
    for (const { topic, partition } of this.positions.values())
      this.broker.findLog(topic, partition)?.waiters.delete(wake)
  }
}
