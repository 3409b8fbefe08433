/**
 * A standby task (Kafka Streams' StandbyTask): a copy of another worker's task's stores, kept by
 * tailing their changelog partitions on a consumer of its own (no group; read_committed under
 * exactly-once, so that it only ever holds committed state). It processes nothing. When the group
 * moves the task here, the active task takes these stores over (`release`) and restores only what
 * the copy had not read yet; a persistent store also keeps a checkpoint of what it read, so a
 * restarted worker starts its copy from there.
 */
import { openStore } from '../../state/stores.js'
import type { BytesStore, StoreWrite } from '../../state/types.js'
import type { Consumer } from '../../transport/types.js'
import { backgroundSleep } from '../clock.js'
import { classify } from '../faults.js'
import type { LogFields, LogLevel } from '../log.js'
import type { StoreSpec } from '../types.js'

export interface StandbyHost {
  readonly guarantee: 'at_least_once' | 'exactly_once'
  readonly stateDir: string | undefined
  readonly workerId: string
  /** A consumer with no group (read_committed under exactly-once); closed when the copy stops. */
  restoreConsumer(): Consumer
  /** The changelog partition's end: the last stable offset under exactly-once. */
  endOffset(topic: string, partition: number): Promise<number>
  log(level: LogLevel, message: string, fields?: LogFields): void
}

/** A store the standby kept, handed to the active task: it goes on from `position`. */
export interface HandedStore {
  readonly bytes: BytesStore
  readonly position: number
}

/** One store of a standby, for /stats and /metrics. */
export interface StandbyStoreStats {
  readonly name: string
  readonly changelog: string
  readonly partition: number
  readonly url: string
  /** The next changelog offset the copy reads. */
  readonly position: number
  /** The changelog's end at the latest fetch (the last stable offset under exactly-once). */
  readonly endOffset: number | null
  /** Records read into the copy since it started. */
  readonly applied: number
}

interface Copy {
  readonly spec: StoreSpec
  readonly bytes: BytesStore
  position: number
  checkpointed: number
  applied: number
}

const CHECKPOINT_MS = 5_000
const RETRY_MS = 500

export class StandbyTask {
  readonly id: string
  readonly partition: number
  readonly #specs: readonly StoreSpec[]
  readonly #host: StandbyHost
  readonly #copies = new Map<string, Copy>()
  #consumer: Consumer | undefined
  #loop: Promise<void> | undefined
  #stopped = false
  #released = false

  constructor(id: string, partition: number, specs: readonly StoreSpec[], host: StandbyHost) {
    this.id = id
    this.partition = partition
    this.#specs = specs
    this.#host = host
  }

  /** Opens the stores and starts tailing; failures are logged and retried, never thrown. */
  start(): void {
    this.#loop = this.#run()
  }

  async #run(): Promise<void> {
    try {
      for (const spec of this.#specs) {
        if (this.#stopped) return
        this.#copies.set(spec.name, await this.#open(spec))
      }
      if (this.#stopped) return
      const consumer = (this.#consumer = this.#host.restoreConsumer())
      await consumer.assign(
        [...this.#copies.values()].map((c) => ({
          topic: c.spec.changelog,
          partition: this.partition,
          from: c.position,
        })),
      )
      let checkpointedAt = Date.now()
      while (!this.#stopped) {
        await this.#pollOnce(consumer)
        if (Date.now() - checkpointedAt >= CHECKPOINT_MS) {
          this.#checkpoint()
          checkpointedAt = Date.now()
        }
      }
    } catch (error) {
      if (!this.#stopped)
        this.#host.log('warn', `standby task ${this.id}: ${String(error)}; the copy stops here`, {
          event: 'standby-failed',
          task: this.id,
        })
    }
  }

  /** A store from its checkpoint when it has a trustworthy one, else wiped and read from the start. */
  async #open(spec: StoreSpec): Promise<Copy> {
    const host = this.#host
    const bytes = openStore(spec.url, {
      name: spec.name,
      taskId: this.id,
      stateDir: host.stateDir,
      workerId: host.workerId,
    })
    let from = bytes.persistent ? bytes.readCheckpoint() : undefined
    if (from !== undefined) {
      const end = await this.#retrying(() => host.endOffset(spec.changelog, this.partition))
      // Past the end: the changelog was recreated or truncated (stores.ts does the same).
      if (end === undefined || from > end) from = undefined
    }
    if (from === undefined) {
      bytes.wipe()
      from = 0
    }
    return { spec, bytes, position: from, checkpointed: from, applied: 0 }
  }

  async #retrying<T>(fn: () => Promise<T>): Promise<T | undefined> {
    while (!this.#stopped) {
      try {
        return await fn()
      } catch (error) {
        if (classify(error) !== 'transient') throw error
        await backgroundSleep(RETRY_MS)
      }
    }
    return undefined
  }

  async #pollOnce(consumer: Consumer): Promise<void> {
    let records
    try {
      records = await consumer.poll({ timeoutMs: 200, maxRecords: 10_000 })
    } catch (error) {
      if (this.#stopped) return
      if (classify(error) !== 'transient') throw error
      await backgroundSleep(RETRY_MS)
      return
    }
    if (this.#stopped) return
    const byTopic = new Map<string, StoreWrite[]>()
    for (const r of records) {
      if (r.key === null) continue
      let batch = byTopic.get(r.topic)
      if (!batch) byTopic.set(r.topic, (batch = []))
      batch.push({ key: r.key, value: r.value })
    }
    for (const copy of this.#copies.values()) {
      const batch = byTopic.get(copy.spec.changelog)
      if (batch) {
        copy.bytes.write(batch)
        copy.applied += batch.length
      }
      copy.position =
        consumer.position({ topic: copy.spec.changelog, partition: this.partition }) ?? copy.position
    }
  }

  #checkpoint(): void {
    for (const copy of this.#copies.values()) {
      if (!copy.bytes.persistent || copy.position === copy.checkpointed) continue
      copy.bytes.writeCheckpoint(copy.position)
      copy.checkpointed = copy.position
    }
  }

  async #stop(): Promise<void> {
    this.#stopped = true
    await this.#loop
    await this.#consumer?.close().catch(() => undefined)
  }

  /** The changelog offsets the copy holds, summed: what the assignor compares between workers. */
  offsets(): number {
    let n = 0
    for (const copy of this.#copies.values()) n += copy.position
    return n
  }

  /** Stops tailing and hands the stores to the active task of the same id (they stay open). */
  async release(): Promise<Map<string, HandedStore>> {
    await this.#stop()
    this.#checkpoint()
    this.#released = true
    return new Map([...this.#copies].map(([name, c]) => [name, { bytes: c.bytes, position: c.position }]))
  }

  /** Stops tailing and closes the stores, keeping their checkpoints. */
  async close(): Promise<void> {
    await this.#stop()
    if (this.#released) return
    this.#checkpoint()
    await Promise.all([...this.#copies.values()].map((c) => c.bytes.close()))
  }

  stats(): StandbyStoreStats[] {
    return this.#specs.map((spec) => {
      const copy = this.#copies.get(spec.name)
      const marks = this.#consumer?.watermarks({ topic: spec.changelog, partition: this.partition })
      return {
        name: spec.name,
        changelog: spec.changelog,
        partition: this.partition,
        url: spec.url,
        position: copy?.position ?? 0,
        endOffset: marks
          ? this.#host.guarantee === 'exactly_once'
            ? marks.lastStableOffset
            : marks.highWatermark
          : null,
        applied: copy?.applied ?? 0,
      }
    })
  }
}
