/**
 * Request/reply over Kafka (agent.ask): a request carries the reply topic and a correlation id in
 * headers; what the agent yields for it goes to that topic under the id; this router reads the
 * reply topic (every partition, no group: each worker sees every reply) and settles the asker.
 */
import { randomUUID } from 'node:crypto'
import { TributaryError } from '../errors.js'
import type { Consumer, IsolationLevel, Transport } from '../transport/types.js'

export const REPLY_TO = 'tributary.reply-to'
export const CORRELATION_ID = 'tributary.correlation-id'

export const replyTopic = (appId: string): string => `${appId}-replies`

interface Pending {
  resolve: (value: unknown) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
}

export class ReplyRouter {
  readonly topic: string
  readonly #transport: Transport
  readonly #pending = new Map<string, Pending>()
  #consumer: Consumer | undefined
  #starting: Promise<void> | undefined
  #loop: Promise<void> | undefined
  #stopped = false
  readonly #isolationLevel: IsolationLevel

  /** Under exactly-once the replies are written in transactions: only committed ones are read. */
  constructor(transport: Transport, appId: string, isolationLevel: IsolationLevel = 'read_uncommitted') {
    this.#transport = transport
    this.topic = replyTopic(appId)
    this.#isolationLevel = isolationLevel
  }

  /** Creates the reply topic if needed and starts reading it from its end. */
  start(): Promise<void> {
    this.#starting ??= (async () => {
      const admin = this.#transport.admin()
      await admin.createTopics([{ topic: this.topic, partitions: 1 }]).catch((error: unknown) => {
        if (!(error instanceof TributaryError && error.code === 'TOPIC_EXISTS')) throw error
      })
      const consumer = this.#transport.consumer({ isolationLevel: this.#isolationLevel })
      await consumer.assign([{ topic: this.topic, partition: 0, from: 'latest' }])
      this.#consumer = consumer
      this.#loop = this.#read(consumer)
    })()
    return this.#starting
  }

  async #read(consumer: Consumer): Promise<void> {
    while (!this.#stopped) {
      let records: Awaited<ReturnType<Consumer['poll']>>
      try {
        records = await consumer.poll({ timeoutMs: 100 })
      } catch (error) {
        if (error instanceof TributaryError && error.code === 'CLOSED') return
        // A failing poll must not turn into a loop that starves the event loop: wait, then retry.
        await new Promise((resolve) => setTimeout(resolve, 500))
        continue
      }
      for (const record of records) {
        const id = record.headers.find(([k]) => k === CORRELATION_ID)?.[1].toString()
        const pending = id === undefined ? undefined : this.#pending.get(id)
        if (!pending || id === undefined) continue
        this.#pending.delete(id)
        clearTimeout(pending.timer)
        try {
          pending.resolve(record.value === null ? undefined : JSON.parse(record.value.toString()))
        } catch (error) {
          pending.reject(
            new TributaryError('INVALID_ARGUMENT', `The reply to ${id} is not JSON: ${String(error)}`),
          )
        }
      }
    }
  }

  /** Registers a request; returns its id and the promise of its reply. */
  expect(timeoutMs: number, what: string): { id: string; reply: Promise<unknown> } {
    const id = randomUUID()
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(
          new TributaryError(
            'TIMEOUT',
            `No reply from ${what} within ${timeoutMs} ms (correlation id ${id})`,
          ),
        )
      }, timeoutMs)
      this.#pending.set(id, { resolve, reject, timer })
    })
    return { id, reply }
  }

  cancel(id: string, error: Error): void {
    const pending = this.#pending.get(id)
    if (!pending) return
    this.#pending.delete(id)
    clearTimeout(pending.timer)
    pending.reject(error)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    for (const [id] of this.#pending)
      this.cancel(id, new TributaryError('CLOSED', 'The app stopped before the reply came'))
    await this.#loop
    await this.#consumer?.close()
  }
}

/** Headers of a request that its answers must not carry on (downstream agents would reply again). */
export function withoutReplyHeaders(headers: Array<[string, Buffer]>): Array<[string, Buffer]> {
  if (headers.length === 0) return headers
  return headers.some(([k]) => k === REPLY_TO || k === CORRELATION_ID)
    ? headers.filter(([k]) => k !== REPLY_TO && k !== CORRELATION_ID)
    : headers
}
