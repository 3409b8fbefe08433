/**
 * A stream definition: a source topic and a chain of operators. Definitions are immutable and only
 * describe; the app compiles them into processors that partition tasks run (operators.ts).
 *
 * groupBy and through end a segment: the events go to a topic, and the rest of the chain reads that
 * topic, so per-key order and co-partitioning hold for the new key.
 */
import { TributaryError } from '../errors.js'
import { keysOf, knownKeys } from '../validate.js'
import type { Codec } from '../serde/types.js'
import type { Topic } from './topic.js'
import type { Event } from './types.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- operator chains are typed at the Stream API */
export type AnyEvent = Event<any, any>

export type Op =
  | { kind: 'map'; fn: (value: any, event: AnyEvent) => unknown }
  | { kind: 'filter'; fn: (value: any, event: AnyEvent) => boolean | Promise<boolean> }
  | { kind: 'forward'; topic: Topic<any, any> }
  | { kind: 'branch'; routes: Array<{ when: (value: any, event: AnyEvent) => boolean; to: Topic<any, any> }> }
  | {
      kind: 'groupBy'
      name: string
      fn: (value: any, event: AnyEvent) => unknown
      key: Codec<any>
      value: Codec<any>
      partitions?: number
    }
  | { kind: 'through'; topic: Topic<any, any> }
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface GroupByOptions<K2, V> {
  /** Names the repartition topic `<appId>-<name>-repartition`; must be unique within the app. */
  name: string
  /** Codec of the new key. */
  key: Codec<K2>
  /** Codec of the value in the repartition topic. @default the source topic's value codec (if no map changed the value) */
  value?: Codec<V>
  /** @default the source topic's partition count */
  partitions?: number
}

const GROUP_BY_OPTIONS = keysOf<GroupByOptions<unknown, unknown>>({
  name: true,
  key: true,
  value: true,
  partitions: true,
})

export class Stream<K, V> {
  /** The topic the chain starts from. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly source: Topic<any, any>
  readonly ops: readonly Op[]
  /** The codec able to encode the current value (unknown after a map without one). */
  readonly valueCodec: Codec<V> | undefined

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private constructor(source: Topic<any, any>, ops: readonly Op[], valueCodec: Codec<V> | undefined) {
    this.source = source
    this.ops = ops
    this.valueCodec = valueCodec
  }

  static from<K, V>(topic: Topic<K, V>): Stream<K, V> {
    return new Stream<K, V>(topic, [], topic.value)
  }

  #with<K2, V2>(op: Op, valueCodec: Codec<V2> | undefined): Stream<K2, V2> {
    return new Stream<K2, V2>(this.source, [...this.ops, op], valueCodec)
  }

  /** Transforms each value (the key, timestamp and original bytes stay). Give a codec if a later groupBy must encode it. */
  map<V2>(fn: (value: V, event: Event<K, V>) => V2 | Promise<V2>, codec?: Codec<V2>): Stream<K, V2> {
    return this.#with({ kind: 'map', fn }, codec)
  }

  /** Keeps the events for which the predicate holds. */
  filter(fn: (value: V, event: Event<K, V>) => boolean | Promise<boolean>): Stream<K, V> {
    return this.#with({ kind: 'filter', fn }, this.valueCodec)
  }

  /** Sends every event's original bytes (key, value, headers, timestamp) to a topic and passes it on. */
  forward(topic: Topic<unknown, unknown>): Stream<K, V> {
    return this.#with({ kind: 'forward', topic }, this.valueCodec)
  }

  /**
   * Routes each event to the topic of the first predicate that holds, forwarding its original bytes;
   * events that match no route pass on (or go to `otherwise`, and nothing passes on).
   */
  branch(
    routes: Array<[(value: V, event: Event<K, V>) => boolean, Topic<unknown, unknown>]>,
    otherwise?: Topic<unknown, unknown>,
  ): Stream<K, V> {
    const all = routes.map(([when, to]) => ({ when, to }))
    if (otherwise) all.push({ when: () => true, to: otherwise })
    if (all.length === 0) throw new TributaryError('INVALID_ARGUMENT', 'branch needs at least one route')
    return this.#with({ kind: 'branch', routes: all }, this.valueCodec)
  }

  /**
   * Re-keys the stream: each event goes to `<appId>-<name>-repartition` under its new key, and the
   * chain continues from that topic, so all events of a new key are in one partition, in order.
   */
  groupBy<K2>(fn: (value: V, event: Event<K, V>) => K2, options: GroupByOptions<K2, V>): Stream<K2, V> {
    knownKeys(`groupBy "${options.name}": option`, options, GROUP_BY_OPTIONS)
    const value = options.value ?? this.valueCodec
    if (!value) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `groupBy "${options.name}" after a map needs a value codec (options.value)`,
      )
    }
    const op: Op = { kind: 'groupBy', name: options.name, fn, key: options.key, value }
    if (options.partitions !== undefined) op.partitions = options.partitions
    return this.#with(op, value)
  }

  /** Sends every event (re-encoded with the topic's codecs) to a topic and continues from that topic. */
  through<K2, V2>(topic: Topic<K2, V2>): Stream<K2, V2> {
    return this.#with({ kind: 'through', topic }, topic.value)
  }
}
