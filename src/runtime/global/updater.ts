/**
 * A global table's local copy (Kafka Streams' GlobalStateUpdateTask): every worker reads every
 * partition of the table's topic with a consumer of its own (no group), restores it to the end
 * before the worker starts processing, then keeps tailing it, so that a write from any worker
 * reaches all of them. Under exactly-once it reads committed records only.
 */
import { coordinates, TributaryError } from '../../errors.js'
import type { Consumer, IsolationLevel, Transport } from '../../transport/types.js'
import { backgroundSleep } from '../clock.js'
import { classify } from '../faults.js'

/** Applies one record of the topic (a null value deletes the key). */
export type Apply = (key: Buffer, value: Buffer | null) => void

export interface GlobalUpdaterOptions {
  transport: Transport
  topic: string
  isolationLevel: IsolationLevel
  apply: Apply
  onError: (error: unknown) => void
}

export class GlobalUpdater {
  readonly #options: GlobalUpdaterOptions
  #consumer: Consumer | undefined
  #loop: Promise<void> | undefined
  #stopped = false
  /** Records applied, for /stats and the log. */
  applied = 0

  constructor(options: GlobalUpdaterOptions) {
    this.#options = options
  }

  /** Reads every partition to its end (the last stable offset under exactly-once), then tails. */
  async start(): Promise<void> {
    const { transport, topic, isolationLevel } = this.#options
    const admin = transport.admin()
    const [described] = await admin.describeTopics([topic])
    if (!described)
      throw new TributaryError('UNKNOWN_TOPIC', `global table topic ${topic} does not exist`, { topic })
    const ends = new Map(
      (await admin.listOffsets(topic, 'latest', { isolationLevel })).map((o) => [o.partition, o.offset]),
    )
    const consumer = (this.#consumer = transport.consumer({ isolationLevel }))
    await consumer.assign(
      described.partitions.map((p) => ({ topic, partition: p.partition, from: 'earliest' as const })),
    )
    const behind = (): boolean =>
      [...ends].some(([partition, end]) => (consumer.position({ topic, partition }) ?? 0) < end)
    while (behind() && !this.#stopped) await this.#pollOnce(consumer)
    this.#loop = this.#tail(consumer)
  }

  async #pollOnce(consumer: Consumer): Promise<void> {
    try {
      for (const r of await consumer.poll({ timeoutMs: 200, maxRecords: 10_000 })) {
        if (r.key === null) continue
        try {
          this.#options.apply(r.key, r.value)
          this.applied++
        } catch (error) {
          // A record the codecs refuse is reported with its coordinates and left out; the rest go on.
          this.#options.onError(
            new TributaryError(
              'INVALID_ARGUMENT',
              `global table record ${coordinates(r.topic, r.partition, r.offset)} could not be decoded: ${String(error)} (skipped)`,
              { topic: r.topic, partition: r.partition, offset: r.offset, cause: error },
            ),
          )
        }
      }
    } catch (error) {
      if (classify(error) !== 'transient') throw error
      await backgroundSleep(500)
    }
  }

  async #tail(consumer: Consumer): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#pollOnce(consumer)
      } catch (error) {
        this.#options.onError(error)
        await backgroundSleep(1_000)
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#loop
    await this.#consumer?.close().catch(() => undefined)
  }
}
