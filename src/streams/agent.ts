/** Agents: user code that iterates a stream per partition task, and what it yields goes to sinks. */
import { TributaryError } from '../errors.js'
import { keysOf, knownKeys, wholeNumber } from '../validate.js'
import type { AgentStream } from './agent-stream.js'
import type { Stream } from './stream.js'
import type { Table } from './table.js'
import type { WindowedTable } from './windowed-table.js'
import type { Topic } from './topic.js'
import type { ErrorPolicy, Event, OutgoingRecord } from './types.js'

/** Where an agent's yielded values go: a topic (keyed like the record being processed), another agent, or a function. */
/* eslint-disable @typescript-eslint/no-explicit-any */
export type Sink = Topic<any, any> | Agent<any, any> | ((value: any) => unknown)

export type AgentBody<K, V> = (
  stream: AgentStream<Event<K, V>>,
) => AsyncIterable<unknown> | Promise<unknown> | void

export interface AgentOptions {
  /** Where yielded values go. @default none */
  sink?: Sink[]
  /** For records that fail to decode or whose processing throws. @default the app's `errors` ('fail') */
  errors?: ErrorPolicy
  /**
   * Copies of the body run per partition, taking records from the same queue: for IO-bound bodies.
   * Above 1, records of one key may finish out of order; commits still only cover records done by
   * every copy (at-least-once). @default 1
   */
  concurrency?: number
  /**
   * The tables the body uses: each of its partition tasks holds their stores for that partition,
   * restored before its first record. Agents that name one table are one task per partition (their
   * topics must be co-partitioned). @default none
   */
  tables?: Array<Table<any, any, any> | WindowedTable<any, any>>
}

/* eslint-enable @typescript-eslint/no-explicit-any */

export const AGENT_OPTIONS = keysOf<AgentOptions>({
  sink: true,
  errors: true,
  concurrency: true,
  tables: true,
})

/** How an agent asks its app to send a request and wait for the reply. */
export type Asker = (
  agent: Agent<unknown, unknown>,
  record: OutgoingRecord<unknown, unknown>,
  timeoutMs: number,
) => Promise<unknown>

export class Agent<K, V> {
  readonly name: string
  readonly stream: Stream<K, V>
  /** None: every event's value goes to the sinks (the chain is the whole agent, as with Kafka Streams' `to`). */
  readonly body: AgentBody<K, V> | undefined
  readonly options: AgentOptions
  readonly #asker: Asker | undefined

  /** @internal (made by the app: app.topic, app.agent, app.compile) */
  constructor(
    name: string,
    stream: Stream<K, V>,
    body: AgentBody<K, V> | undefined,
    options: AgentOptions = {},
    asker?: Asker,
  ) {
    if (!/^[a-zA-Z0-9._-]+$/.test(name)) {
      throw new TributaryError('INVALID_ARGUMENT', `Agent name "${name}" is not valid: use a-z A-Z 0-9 . _ -`)
    }
    if (body === undefined && (options.sink ?? []).length === 0) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Agent "${name}" has neither a body nor a sink: give a body, or sink: [...] for its stream's values`,
      )
    }
    if (body !== undefined && typeof body !== 'function') {
      throw new TributaryError('INVALID_ARGUMENT', `Agent "${name}": the body must be a function`)
    }
    knownKeys(`Agent "${name}": option`, options, AGENT_OPTIONS)
    if (options.concurrency !== undefined) wholeNumber(`Agent "${name}": concurrency`, options.concurrency)
    this.name = name
    this.stream = stream
    this.body = body
    this.options = options
    this.#asker = asker
  }

  /**
   * Request/reply: sends a record to the agent's topic and resolves with the first value the agent
   * yields for it (JSON), sent back over `<appId>-replies`. Rejects with TIMEOUT after `timeoutMs`.
   */
  ask<R = unknown>(record: OutgoingRecord<K, V>, options: { timeoutMs?: number } = {}): Promise<R> {
    if (!this.#asker)
      return Promise.reject(
        new TributaryError('INVALID_ARGUMENT', `Agent "${this.name}" is not attached to an app`),
      )
    return this.#asker(this as Agent<unknown, unknown>, record, options.timeoutMs ?? 30_000) as Promise<R>
  }

  /** The topic the agent reads (where the chain starts). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get topic(): Topic<any, any> {
    return this.stream.source
  }

  /**
   * Sends a record to the agent's topic, from anywhere. Inside another agent, await it: the record in
   * process is committed only after the body asks for the next one, so an awaited send is safe.
   */
  send(record: OutgoingRecord<K, V>): Promise<unknown> {
    return (this.stream.source as Topic<K, V>).send(record)
  }
}
