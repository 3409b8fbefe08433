/**
 * Compiles agents into processors: the chain of each agent is cut at groupBy/through into segments;
 * every segment but the last becomes a forwarder that sends to the next segment's topic, and the
 * last one runs the agent body. The runtime only ever sees processors.
 */
import { TributaryError } from '../errors.js'
import { RecordEvent } from '../runtime/task/event.js'
import type {
  AgentSpec,
  AnyEvent,
  NodeSpec,
  ProcessorContext,
  ProcessorSpec,
  StoreSpec,
} from '../runtime/types.js'
import type { Codec } from '../serde/types.js'
import type { ConsumedRecord, ProducerRecord } from '../transport/types.js'
import type { Agent, Sink } from './agent.js'
import { AgentStream } from './agent-stream.js'
import { applyOps } from './operators.js'
import type { Op, Stream } from './stream.js'
import { CORRELATION_ID, REPLY_TO, withoutReplyHeaders } from './replies.js'
import type { Table } from './table.js'
import { WindowedTable } from './windowed-table.js'
import { Topic } from './topic.js'
import type { ErrorPolicy } from './types.js'
import { encodeWith, outputEncoder } from './encode.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface CompileContext {
  appId: string
  errors: ErrorPolicy
  /** Declares (or returns the already declared) internal topic of a groupBy. */
  repartitionTopic(
    name: string,
    source: Topic<any, any>,
    op: Extract<Op, { kind: 'groupBy' }>,
  ): Topic<any, any>
  /** The stores of the tables an agent names, read from `source` (a table's key codec defaults to its key's). */
  stores(tables: readonly Table<any, any, any>[], source: Topic<any, any>, keyCodec: Codec<any>): StoreSpec[]
}

function decoder(topic: Topic<any, any>): (record: ConsumedRecord) => AnyEvent {
  return (record) => {
    let key: unknown
    try {
      key = record.key === null ? null : topic.key.decode(record.key)
    } catch (error) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `the key could not be decoded with codec ${topic.key.name}: ${String(error)}`,
        { cause: error },
      )
    }
    let value: unknown
    try {
      value = topic.value.decode(record.value)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `the value could not be decoded with codec ${topic.value.name}: ${reason}`,
        { cause: error },
      )
    }
    return new RecordEvent(record, key, value)
  }
}

/** The operators of a segment as one transform (none when the segment has no operators). */
function transform(ops: readonly Op[]): Pick<ProcessorSpec, 'transform'> {
  if (ops.length === 0) return {}
  return { transform: (event, context) => applyOps(event, ops, context) }
}

function forwarder(
  name: string,
  source: Topic<any, any>,
  ops: Op[],
  boundary: Op,
  target: Topic<any, any>,
  errors: ErrorPolicy,
): NodeSpec {
  // What an encoding error names: built once, not per record.
  const keyWhat = boundary.kind === 'groupBy' ? `groupBy "${boundary.name}": the new key` : ''
  const valueWhat = boundary.kind === 'groupBy' ? `groupBy "${boundary.name}": the value` : ''
  const encode = (e: AnyEvent): ProducerRecord => {
    if (boundary.kind === 'groupBy') {
      return {
        topic: target.name,
        key: encodeWith(boundary.key, boundary.fn(e.value, e), keyWhat),
        value: encodeWith(boundary.value, e.value, valueWhat),
        headers: withoutReplyHeaders(e.headers),
        timestamp: e.timestamp,
      }
    }
    const { key, value } = e as { key: unknown; value: unknown }
    return target.encode({ key, value, headers: withoutReplyHeaders(e.headers), timestamp: e.timestamp })
  }
  return {
    kind: 'node',
    name,
    topic: source.name,
    decode: decoder(source),
    ...transform(ops),
    errors,
    feeds: [target.name],
    create: () => ({
      // Not awaited: each send holds its record's offset until acknowledged.
      process: (event, context) => context.forward([encode(event)]),
    }),
  }
}

function emitter(sinks: Sink[]): (value: unknown, context: ProcessorContext) => Promise<void> | undefined {
  const functions = sinks.filter((s) => typeof s === 'function')
  const topics = sinks
    .filter((s) => typeof s !== 'function')
    .map((sink) => {
      const topic: Topic<any, any> = sink instanceof Topic ? sink : sink.topic
      return {
        name: topic.name,
        encode: outputEncoder(topic.value, `the value for sink topic "${topic.name}"`),
      }
    })
  const sendAll = (value: unknown, context: ProcessorContext): void => {
    const current = context.currentRecord()
    replyIfAsked(value, context, current)
    for (const topic of topics) {
      // Like Kafka Streams, an output carries the event time and headers of the record it came from.
      // One object literal per case, so that every output record has one shape from its creation.
      const record: ProducerRecord = current
        ? {
            topic: topic.name,
            key: current.key,
            value: topic.encode(value),
            timestamp: current.timestamp,
            headers: withoutReplyHeaders(current.headers),
          }
        : { topic: topic.name, key: null, value: topic.encode(value) }
      // Not awaited: the send holds the offsets of the records in process until acknowledged.
      context.forward(record)
    }
  }
  if (functions.length === 0)
    return (value, context) => {
      sendAll(value, context)
      return undefined
    }
  return async (value, context) => {
    sendAll(value, context)
    // A function sink is part of processing: awaited, and what it throws meets the error policy.
    for (const fn of functions) await (fn as (value: unknown) => unknown)(value)
  }
}

/** A record sent by agent.ask() names a reply topic: what the agent yields for it goes back there. */
function replyIfAsked(value: unknown, context: ProcessorContext, record = context.currentRecord()): void {
  if (!record || record.headers.length === 0) return
  let replyTo: Buffer | undefined
  let id: Buffer | undefined
  for (const [k, v] of record.headers) {
    if (k === REPLY_TO) replyTo = v
    else if (k === CORRELATION_ID) id = v
  }
  if (!replyTo || !id) return
  const json = value === undefined ? null : Buffer.from(JSON.stringify(value))
  context.forward([{ topic: replyTo.toString(), key: id, value: json, headers: [[CORRELATION_ID, id]] }])
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value
}

/**
 * Cuts a stream's chain at groupBy/through: a forwarder per segment but the last, and what the
 * last segment reads (its topic and operators), for the agent or processor that ends the chain.
 */
export function compileChain(
  name: string,
  stream: Stream<any, any>,
  errors: ErrorPolicy,
  ctx: CompileContext,
): { forwarders: NodeSpec[]; source: Topic<any, any>; last: Pick<ProcessorSpec, 'decode' | 'transform'> } {
  const forwarders: NodeSpec[] = []
  let source: Topic<any, any> = stream.source
  let ops: Op[] = []
  for (const op of stream.ops) {
    if (op.kind !== 'groupBy' && op.kind !== 'through') {
      ops.push(op)
      continue
    }
    const target = op.kind === 'groupBy' ? ctx.repartitionTopic(op.name, source, op) : op.topic
    forwarders.push(
      forwarder(
        `${name}.${op.kind === 'groupBy' ? op.name : `through-${target.name}`}`,
        source,
        ops,
        op,
        target,
        errors,
      ),
    )
    source = target
    ops = []
  }
  return { forwarders, source, last: { decode: decoder(source), ...transform(ops) } }
}

/** What an agent without a body does with its stream: every value goes to the sinks. */
async function* passThrough(stream: AsyncIterable<AnyEvent>): AsyncIterable<unknown> {
  for await (const event of stream) yield event.value
}

export function compileAgent(agent: Agent<any, any>, ctx: CompileContext): ProcessorSpec[] {
  const errors = agent.options.errors ?? ctx.errors
  const { forwarders, source, last } = compileChain(agent.name, agent.stream, errors, ctx)
  const emit = emitter(agent.options.sink ?? [])
  const concurrency = agent.options.concurrency ?? 1
  const tables = (agent.options.tables ?? []).map((t) => (t instanceof WindowedTable ? t.table : t))
  const stores = tables.length > 0 ? { stores: ctx.stores(tables, source, source.key) } : {}
  if (agent.body === undefined && concurrency === 1) {
    // No body: a record-at-a-time node, synchronous while the operators and sinks are. Same
    // outputs, keys, timestamps, replies and error policy as the body that yields every value,
    // without two async iterations per record.
    const node: NodeSpec = {
      kind: 'node',
      name: agent.name,
      topic: source.name,
      ...last,
      errors,
      ...stores,
      create: () => ({ process: (event, context) => emit(event.value, context) }),
    }
    return [...forwarders, node]
  }
  const run = agent.body ?? passThrough
  const body: AgentSpec = {
    kind: 'agent',
    name: agent.name,
    topic: source.name,
    ...last,
    errors,
    ...stores,
    concurrency,
    run: async (events, context) => {
      const result = run(new AgentStream(events))
      if (isAsyncIterable(result)) {
        for await (const value of result) {
          const pending = emit(value, context)
          if (pending) await pending
        }
      } else {
        await result
      }
    },
  }
  return [...forwarders, body]
}
/* eslint-enable @typescript-eslint/no-explicit-any */
