/**
 * The Processor API: a record-at-a-time processor per partition task, for what agents and
 * operators do not express (Kafka Streams' `Processor`). It sees every record of its task in
 * order, keeps what it likes between them, and may schedule punctuations on stream time or on the
 * app's clock. What it forwards belongs to the record in process (or the punctuation running): the
 * record's offset is committed only once those outputs are acknowledged.
 */
import type { NodeSpec, Processor, ProcessorContext, ProcessorSpec } from '../runtime/types.js'
import { compileChain, type CompileContext } from './compile.js'
import type { Stream } from './stream.js'
import type { Topic } from './topic.js'
import type { ErrorPolicy, Event, OutgoingRecord } from './types.js'

/** What a processor reaches of its task. */
export interface StreamProcessorContext {
  /** `<subtopology>_<partition>`: the task this processor instance runs in. */
  readonly taskId: string
  readonly partition: number
  /** Sends a record through a topic's codecs; keyed and timestamped by the record in process unless given. */
  forward<K, V>(topic: Topic<K, V>, record: OutgoingRecord<K, V>): void
  /** The task's stream time: the highest record timestamp taken so far; -1 before the first. */
  streamTime(): number
  /** The app's clock (the test driver moves it). */
  now(): number
  /**
   * Runs `fn` every `intervalMs` of stream time or of the app's clock ('wall'), between records.
   * Returns a handle whose cancel() stops it.
   */
  schedule(
    intervalMs: number,
    type: 'stream' | 'wall',
    fn: (timestamp: number) => void | Promise<void>,
  ): {
    cancel(): void
  }
}

export interface StreamProcessor<K, V> {
  init?(context: StreamProcessorContext): void | Promise<void>
  process(event: Event<K, V>, context: StreamProcessorContext): void | Promise<void>
  close?(): void | Promise<void>
}

export interface ProcessorOptions {
  /** For records that fail to decode or whose processing throws. @default the app's `errors` */
  errors?: ErrorPolicy
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** Wraps the runtime's context in the typed one. */
function typedContext(context: ProcessorContext): StreamProcessorContext {
  return {
    taskId: context.taskId,
    partition: context.partition,
    forward: (topic, record) => {
      const out = topic.encode(record)
      const current = context.currentRecord()
      if (record.key === undefined && current) out.key = current.key
      if (record.timestamp === undefined && current) out.timestamp = current.timestamp
      context.forward([out])
    },
    streamTime: () => context.streamTime(),
    now: () => context.now(),
    schedule: (intervalMs, type, fn) => context.schedule(intervalMs, type, fn),
  }
}

/** Compiles a declared processor: forwarders for its chain's groupBy/through, then the node. */
export function compileProcessor(
  name: string,
  stream: Stream<any, any>,
  create: () => StreamProcessor<any, any>,
  errors: ErrorPolicy,
  ctx: CompileContext,
): ProcessorSpec[] {
  const { forwarders, source, last } = compileChain(name, stream, errors, ctx)
  const node: NodeSpec = {
    kind: 'node',
    name,
    topic: source.name,
    ...last,
    errors,
    create: (): Processor => {
      const user = create()
      let typed: StreamProcessorContext | undefined
      const wrap = (context: ProcessorContext): StreamProcessorContext => (typed ??= typedContext(context))
      return {
        init: (context) => user.init?.(wrap(context)),
        process: (event, context) => user.process(event, wrap(context)),
        close: () => user.close?.(),
      }
    },
  }
  return [...forwarders, node]
}
/* eslint-enable @typescript-eslint/no-explicit-any */
