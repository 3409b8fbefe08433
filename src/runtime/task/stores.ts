/**
 * The state manager of a task with stores: for each table of its sub-topology, the store stack
 * (metered -> caching -> change-logging -> bytes store) on the task's partition.
 *
 * Restore, before the first record: a persistent store with a checkpoint restores the changelog
 * from it to the end; one without (never checkpointed, or shut down uncleanly under exactly-once,
 * Kafka Streams' rule) is wiped and restored in full, as a memory store always is. A checkpoint
 * past the changelog's end (the topic was recreated, or its log truncated) cannot be trusted
 * either: a warning, then a full restore. A task that takes over the stores of a standby copy on
 * this worker (standby.ts) restores from where the copy got to: only the tail.
 *
 * Checkpoints: at-least-once writes one after every commit (its flush was acknowledged, so the
 * changelog holds the store up to it). Exactly-once removes it once restored and writes it only on
 * a clean close, so that a crash leaves none and the next start wipes what it may have written
 * past the last committed transaction.
 */
import { TributaryError } from '../../errors.js'
import { CachingStore } from '../../state/caching-store.js'
import { ChangeLoggingStore, type ChangelogSend } from '../../state/change-logging-store.js'
import { MeteredStore } from '../../state/metered-store.js'
import { restoreStore, type RestoreProgress } from '../../state/restore.js'
import { openStore } from '../../state/stores.js'
import type { BytesStore, KeyValue } from '../../state/types.js'
import { partitionForKey } from '../../transport/partitioner.js'
import type { Consumer } from '../../transport/types.js'
import { backgroundSleep, type Clock } from '../clock.js'
import { classify } from '../faults.js'
import type { LogFields, LogLevel } from '../log.js'
import type { StoreSpec } from '../types.js'
import type { HandedStore } from './standby.js'
import type { StateManager, StoreStats, WindowStats } from './state-manager.js'

/** What the stores of a task need from the worker. */
export interface StateHost {
  readonly clock: Clock
  readonly guarantee: 'at_least_once' | 'exactly_once'
  readonly stateDir: string | undefined
  readonly workerId: string
  readonly sendChangelog: ChangelogSend
  /** A consumer with no group, for a restore (read_committed under exactly-once); closed after. */
  restoreConsumer(): Consumer
  /** The changelog partition's end: the last stable offset under exactly-once. */
  endOffset(topic: string, partition: number): Promise<number>
  /**
   * The stores a standby copy of this task kept on this worker, handed over (its tailing stopped):
   * restored from where the copy got to. Undefined when there is none.
   */
  adopt?(taskId: string): Promise<ReadonlyMap<string, HandedStore> | undefined>
  /** The partition count of a source topic, for the key check; undefined when not known. */
  partitions(topic: string): number | undefined
  log(level: LogLevel, message: string, fields?: LogFields): void
}

interface Stack {
  readonly spec: StoreSpec
  readonly bytes: BytesStore
  readonly logging: ChangeLoggingStore
  readonly caching: CachingStore<unknown, unknown>
  readonly metered: MeteredStore<unknown, unknown>
  progress: RestoreProgress | undefined
}

export class TaskStores implements StateManager {
  readonly stateful = true
  readonly #taskId: string
  readonly #partition: number
  readonly #sourceTopics: readonly string[]
  readonly #specs: readonly StoreSpec[]
  readonly #windowStats = new Map<string, WindowStats>()
  readonly #host: StateHost
  readonly #stacks = new Map<string, Stack>()
  #ready = false
  #closed = false
  #restoring: Promise<void> | undefined

  constructor(
    taskId: string,
    partition: number,
    sourceTopics: readonly string[],
    specs: readonly StoreSpec[],
    host: StateHost,
  ) {
    this.#taskId = taskId
    this.#partition = partition
    this.#sourceTopics = sourceTopics
    this.#specs = specs
    this.#host = host
  }

  restore(): Promise<void> {
    this.#restoring ??= this.#restoreAll()
    return this.#restoring
  }

  async #restoreAll(): Promise<void> {
    const handed = new Map(await this.#host.adopt?.(this.#taskId))
    try {
      for (const spec of this.#specs) {
        if (this.#closed) return
        const copy = handed.get(spec.name)
        handed.delete(spec.name)
        const stack = this.#open(spec, copy?.bytes)
        this.#stacks.set(spec.name, stack)
        await this.#restore(stack, copy?.position)
      }
    } finally {
      // Closed before every copy was taken up: the rest are closed here (their checkpoints kept).
      await Promise.all([...handed.values()].map((copy) => copy.bytes.close()))
    }
    if (this.#closed) return
    if (this.#host.guarantee === 'exactly_once')
      for (const { bytes } of this.#stacks.values()) if (bytes.persistent) bytes.writeCheckpoint(undefined)
    this.#ready = true
  }

  #open(spec: StoreSpec, handed: BytesStore | undefined): Stack {
    const host = this.#host
    const bytes =
      handed ??
      openStore(spec.url, {
        name: spec.name,
        taskId: this.#taskId,
        stateDir: host.stateDir,
        workerId: host.workerId,
      })
    const logging = new ChangeLoggingStore(bytes, spec.changelog, this.#partition, host.sendChangelog)
    const caching = new CachingStore<unknown, unknown>(logging, {
      table: spec.name,
      key: spec.key,
      value: spec.value,
      maxEntries: spec.cacheMaxEntries,
      admit: (keyBytes, key) => this.#admit(spec, keyBytes, key),
    })
    return { spec, bytes, logging, caching, metered: new MeteredStore(caching), progress: undefined }
  }

  /** A key of another partition would split the table between tasks: the stream must be keyed by it. */
  #admit(spec: StoreSpec, keyBytes: Buffer, key: unknown): void {
    const topic = this.#sourceTopics[0]!
    const partitions = this.#host.partitions(topic)
    if (partitions === undefined) return
    const part = spec.keyPart ? spec.keyPart(keyBytes) : keyBytes
    if (part === undefined) return
    const owner = partitionForKey(part, partitions)
    if (owner === this.#partition) return
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `table "${spec.name}": key ${JSON.stringify(key)} belongs to partition ${owner}, but task ${this.#taskId} ` +
        `reads partition ${this.#partition} of ${topic}: the stream is not partitioned by the table's key; ` +
        `group it by that key first (stream.groupBy(...)), so that every key is used by one task`,
      { topic, partition: this.#partition },
    )
  }

  /** Restores from `handed` (where a standby copy got to), else from the checkpoint, else in full. */
  async #restore(stack: Stack, handed: number | undefined): Promise<void> {
    const { spec, bytes, logging } = stack
    const host = this.#host
    const end = await this.#endOffset(spec)
    if (end === undefined) return
    let from = handed ?? (bytes.persistent ? bytes.readCheckpoint() : undefined)
    if (from !== undefined && from > end) {
      host.log(
        'warn',
        `task ${this.#taskId}: table "${spec.name}" has a checkpoint at offset ${from}, past the end of ` +
          `${spec.changelog}[${this.#partition}] (${end}): the changelog was recreated or truncated; restoring in full`,
      )
      from = undefined
    }
    if (from === undefined) {
      bytes.wipe()
      from = 0
    }
    const progress: RestoreProgress = {
      topic: spec.changelog,
      partition: this.#partition,
      from,
      end,
      restored: 0,
      startedAt: host.clock.now(),
      finishedAt: undefined,
    }
    stack.progress = progress
    const consumer = from < end ? host.restoreConsumer() : undefined
    try {
      const reached = consumer
        ? await restoreStore({
            store: bytes,
            consumer,
            progress,
            now: () => host.clock.now(),
            cancelled: () => this.#closed,
            report: (p) => host.log('info', this.#progressText(spec, p), this.#progressFields(spec, p)),
            retry: (error) => classify(error) === 'transient',
            pause: () => backgroundSleep(RETRY_MS),
          })
        : from
      logging.restoredTo(reached)
    } finally {
      await consumer?.close().catch(() => undefined)
    }
    if (this.#closed) return
    progress.finishedAt = host.clock.now()
    if (progress.restored > 0 || end > 0)
      host.log('info', this.#progressText(spec, progress), this.#progressFields(spec, progress))
  }

  /** The changelog's end, asked again through transient faults; undefined once the task closes. */
  async #endOffset(spec: StoreSpec): Promise<number | undefined> {
    for (;;) {
      try {
        return await this.#host.endOffset(spec.changelog, this.#partition)
      } catch (error) {
        if (classify(error) !== 'transient') throw error
        this.#host.log('warn', `task ${this.#taskId}: table "${spec.name}": ${String(error)}; retrying`)
        await backgroundSleep(RETRY_MS)
        if (this.#closed) return undefined
      }
    }
  }

  #progressText(spec: StoreSpec, p: RestoreProgress): string {
    const took = Math.max(1, (p.finishedAt ?? this.#host.clock.now()) - p.startedAt)
    const rate = Math.round((p.restored * 1000) / took)
    const where = `${spec.changelog}[${p.partition}] ${p.from}..${p.end}`
    return p.finishedAt !== undefined
      ? `task ${this.#taskId}: table "${spec.name}" restored ${records(p.restored)} from ${where} in ${took} ms (${rate}/s)`
      : `task ${this.#taskId}: table "${spec.name}" restoring ${where}: ${records(p.restored)}, ${remaining(p)} to go (${rate}/s)`
  }

  #progressFields(spec: StoreSpec, p: RestoreProgress): LogFields {
    return {
      event: p.finishedAt !== undefined ? 'restored' : 'restoring',
      task: this.#taskId,
      table: spec.name,
      restored: p.restored,
      remaining: remaining(p),
    }
  }

  async flush(): Promise<void> {
    if (this.#stacks.size === 0) return
    for (const { caching } of this.#stacks.values()) caching.flush()
    await Promise.all([...this.#stacks.values()].map(({ logging }) => logging.flush()))
  }

  checkpoint(): void {
    if (!this.#ready || this.#closed || this.#host.guarantee === 'exactly_once') return
    this.#writeCheckpoints()
  }

  #writeCheckpoints(): void {
    for (const { bytes, logging } of this.#stacks.values())
      if (bytes.persistent && logging.position !== undefined) bytes.writeCheckpoint(logging.position)
  }

  async close(clean: boolean): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    // A restore in progress stops after its poll: it must not write into a closed store.
    await this.#restoring?.catch(() => undefined)
    // Clean: the commit before flushed and acknowledged everything, so the position is the truth.
    if (clean && this.#ready) this.#writeCheckpoints()
    else if (this.#host.guarantee === 'at_least_once')
      for (const { bytes } of this.#stacks.values()) if (bytes.persistent) bytes.writeCheckpoint(undefined)
    await Promise.all([...this.#stacks.values()].map(({ bytes }) => bytes.close()))
  }

  offsets(): number {
    let n = 0
    for (const { logging } of this.#stacks.values()) n += logging.position ?? 0
    return n
  }

  store(name: string): KeyValue<unknown, unknown> | undefined {
    return this.#ready ? this.#stacks.get(name)?.metered : undefined
  }

  reset(): void {
    for (const { caching } of this.#stacks.values()) caching.reset()
  }

  windowStats(name: string): WindowStats | undefined {
    if (!this.#specs.some((s) => s.name === name)) return undefined
    let stats = this.#windowStats.get(name)
    if (!stats) this.#windowStats.set(name, (stats = { pending: 0, closed: 0, late: 0, streamTime: -1 }))
    return stats
  }

  stats(): StoreStats[] {
    return this.#specs.map((spec) => {
      const stack = this.#stacks.get(spec.name)
      const windows = this.#windowStats.get(spec.name)
      return {
        ...(windows ? { windows: { ...windows } } : {}),
        name: spec.name,
        changelog: spec.changelog,
        partition: this.#partition,
        url: spec.url,
        keys: stack && this.#ready && !this.#closed ? stack.caching.size() : 0,
        gets: stack?.metered.counts.gets ?? 0,
        sets: stack?.metered.counts.sets ?? 0,
        deletes: stack?.metered.counts.deletes ?? 0,
        changelogWrites: stack?.logging.sent ?? 0,
        restore: stack?.progress && { ...stack.progress },
      }
    })
  }
}

const RETRY_MS = 500

const records = (n: number): string => `${n} record${n === 1 ? '' : 's'}`

const remaining = (p: RestoreProgress): number => Math.max(0, p.end - p.from - p.restored)
