/**
 * What the runtime runs: a topology of sub-topologies, each a set of processors that read the same
 * co-partitioned source topics. The DSL (streams/) compiles to these types; the runtime never sees
 * the DSL. A task is (sub-topology, partition) and runs one instance of every processor of its
 * sub-topology on that partition of its source topics.
 */
import type { Codec } from '../serde/types.js'
import type { ConsumedRecord, Headers, ProducerRecord } from '../transport/types.js'

/** One record as a processor sees it: typed key and value, plus where it came from. */
export interface Event<K, V> {
  readonly key: K
  readonly value: V
  readonly headers: Headers
  /** Event time in ms (the record's timestamp). */
  readonly timestamp: number
  readonly topic: string
  readonly partition: number
  readonly offset: number
  /** The record's original bytes, for forwarding without re-encoding. */
  readonly raw: { readonly key: Buffer | null; readonly value: Buffer | null }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyEvent = Event<any, any>

/** What to do with a record that fails to decode or whose processing throws. */
export type ErrorPolicy =
  /** Stop the worker with an error naming topic, partition and offset; nothing past it is committed. */
  | 'fail'
  /** Log the error with the record's coordinates and go on with the next record. */
  | 'skip'
  /** Send the original bytes to `<appId>-dlq` with the error and coordinates in headers, and go on. */
  | 'dlq'

/** A transform's verdict that the event goes no further (filtered, or routed elsewhere): it is done. */
export const DROPPED = Symbol('dropped')
export type Transformed = AnyEvent | typeof DROPPED

/** A scheduled punctuation; cancel() stops it. */
export interface Cancellable {
  cancel(): void
}

/** One output record or several: one record costs no array (the hot path of a sink). */
export type Outputs = ProducerRecord | readonly ProducerRecord[]

/** How many records `outputs` holds. */
export const outputCount = (outputs: Outputs): number =>
  Array.isArray(outputs) ? (outputs as readonly ProducerRecord[]).length : 1

/**
 * What a processor reaches of its task. Outputs sent with `forward` belong to the records in
 * process (or to the punctuation running): their offsets are not committed before the outputs are
 * acknowledged (at-least-once); an output that cannot be delivered fails the task.
 */
export interface ProcessorContext {
  readonly processor: string
  /** `<subtopology>_<partition>` */
  readonly taskId: string
  readonly topic: string
  readonly partition: number
  /** Sends one output record, or several. */
  forward(records: Outputs): void
  /** The last record taken by the processor (its key is the key of what an agent yields). */
  currentRecord(): ConsumedRecord | undefined
  /** The task's stream time: the highest record timestamp it has taken; -1 before the first. */
  streamTime(): number
  /** The app's clock (the test driver moves it). */
  now(): number
  /**
   * Runs `fn` every `intervalMs` of stream time (when records move the task's stream time past the
   * next multiple) or of wall-clock time, between records, never overlapping itself. Its outputs
   * hold the task's commits until acknowledged, like a record's.
   */
  schedule(
    intervalMs: number,
    type: 'stream' | 'wall',
    fn: (timestamp: number) => void | Promise<void>,
  ): Cancellable
}

/** The stream an agent body iterates, as the runtime provides it (the DSL wraps it). */
export interface EventSource {
  /** The next event; asking for it means the ones taken before are processed. */
  next(): Promise<IteratorResult<AnyEvent>>
  /**
   * The next event if one comes within `ms` (on the app's clock), else 'timeout', and then nothing
   * was taken: a record must never be taken for a batch that was already handed to the body.
   */
  nextWithin(ms: number): Promise<IteratorResult<AnyEvent> | 'timeout'>
  /** Marks the events taken so far as processed (a body asking for its next batch). */
  advance(): void
  now(): number
}

/** A record-at-a-time processor, created per task (stateful operators are of this kind). */
export interface Processor {
  init?(context: ProcessorContext): void | Promise<void>
  process(event: AnyEvent, context: ProcessorContext): void | Promise<void>
  close?(): void | Promise<void>
}

/**
 * A table's store, as the runtime sees it: every task of the sub-topology whose processors use it
 * holds one, logged to partition `<task partition>` of `changelog`.
 */
export interface StoreSpec {
  /** The table's name (unique in the app). */
  readonly name: string
  /** `<appId>-<name>-changelog`, compacted, with the source topic's partition count. */
  readonly changelog: string
  /** `memory://` or `lmdb://[directory]` (state/stores.ts). */
  readonly url: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly key: Codec<any>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly value: Codec<any>
  /** Keys kept decoded in the store's cache. */
  readonly cacheMaxEntries: number
  /**
   * The bytes of a store key that its partition is computed from (a windowed key: the record key
   * before the window), or undefined for an entry of the task itself (its stream time).
   * @default the whole key
   */
  readonly keyPart?: (key: Buffer) => Buffer | undefined
  /** A windowed store: the codec of the record key inside its windowed keys (interactive queries take that key). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly recordKey?: Codec<any>
  /** Configs of the changelog topic when created. @default cleanup.policy=compact */
  readonly changelogConfigs?: Readonly<Record<string, string>>
}

interface ProcessorBase {
  /** Unique in the app. */
  readonly name: string
  /** The source topic this processor reads. */
  readonly topic: string
  /** Decodes a record; throws on bad bytes (the error policy then takes the record). */
  decode(record: ConsumedRecord): AnyEvent
  /** Stateless operators run before the body (map, filter, forward, branch). */
  transform?(event: AnyEvent, context: ProcessorContext): Transformed | Promise<Transformed>
  readonly errors: ErrorPolicy
  /** Topics this processor writes to that other processors of the app read (repartition, through). */
  readonly feeds?: readonly string[]
  /** The tables this processor uses: its task holds their stores. */
  readonly stores?: readonly StoreSpec[]
}

/** An agent: a body that iterates the stream of its task. */
export interface AgentSpec extends ProcessorBase {
  readonly kind: 'agent'
  /** Copies of the body per task, taking records from one queue. @default 1 */
  readonly concurrency: number
  run(source: EventSource, context: ProcessorContext): Promise<void>
}

/** A record-at-a-time processor. */
export interface NodeSpec extends ProcessorBase {
  readonly kind: 'node'
  create(): Processor
}

export type ProcessorSpec = AgentSpec | NodeSpec

/** Processors grouped by the source topics they read together. */
export interface Subtopology {
  readonly id: number
  readonly sourceTopics: readonly string[]
  readonly processors: readonly ProcessorSpec[]
  /**
   * Sub-topologies linked by a topic one writes and the other reads (repartition, through) share a
   * co-location group: their tasks of one partition are placed on one worker.
   */
  readonly colocate?: number
  /** The stores of the tables its processors use (one per task). */
  readonly stores: readonly StoreSpec[]
}

/**
 * Groups processors into sub-topologies: processors that read the same topic share one (a record
 * of that topic is one task's, whichever processors read it), and so do processors that use the
 * same table (its store is one task's: their topics are read together, co-partitioned, as Kafka
 * Streams joins the processors of a store into one sub-topology). Sub-topologies that feed each
 * other get one co-location group (union-find over the `feeds` edges), numbered by their lowest id.
 */
export function buildSubtopologies(processors: readonly ProcessorSpec[]): Subtopology[] {
  const topics = [...new Set(processors.map((p) => p.topic))]
  const index = new Map(topics.map((t, i) => [t, i]))
  // Topics whose processors share a store are one sub-topology.
  const group = topics.map((_, i) => i)
  const top = (i: number): number => (group[i] === i ? i : (group[i] = top(group[i]!)))
  const storeTopic = new Map<string, number>()
  for (const p of processors) {
    for (const store of p.stores ?? []) {
      const i = index.get(p.topic)!
      const j = storeTopic.get(store.name)
      if (j === undefined) storeTopic.set(store.name, i)
      else if (top(i) !== top(j)) group[Math.max(top(i), top(j))] = Math.min(top(i), top(j))
    }
  }
  const roots = [...new Set(topics.map((_, i) => top(i)))]
  const subtopologyOf = new Map(topics.map((t, i) => [t, roots.indexOf(top(i))]))
  const parent = roots.map((_, i) => i)
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i]!)))
  for (const p of processors) {
    for (const fed of p.feeds ?? []) {
      const j = subtopologyOf.get(fed)
      if (j === undefined) continue
      const [a, b] = [root(subtopologyOf.get(p.topic)!), root(j)]
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b)
    }
  }
  const linked = new Map<number, number>()
  for (const i of roots.keys()) linked.set(root(i), (linked.get(root(i)) ?? 0) + 1)
  return roots.map((_, id) => {
    const mine = processors.filter((p) => subtopologyOf.get(p.topic) === id)
    const stores = new Map<string, StoreSpec>()
    for (const p of mine) for (const s of p.stores ?? []) stores.set(s.name, s)
    return {
      id,
      sourceTopics: topics.filter((t) => subtopologyOf.get(t) === id),
      processors: mine,
      ...(linked.get(root(id))! > 1 ? { colocate: root(id) } : {}),
      stores: [...stores.values()],
    }
  })
}
