/** Small helpers shared by the embedded broker's parts: partition keys, ordering, argument checks. */
import { coordinates, TributaryError } from '../../errors.js'
import type { Headers, TopicPartition } from '../types.js'

/** A map key for a topic partition. Topic names cannot contain ':' (Kafka allows [a-zA-Z0-9._-]). */
export function tpKey(topic: string, partition: number): string {
  return `${topic}:${partition}`
}

export function compareTp(a: TopicPartition, b: TopicPartition): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1
  return a.partition - b.partition
}

/** Copies to plain `{ topic, partition }` objects in (topic, partition) order. */
export function sortedTps(tps: Iterable<TopicPartition>): TopicPartition[] {
  return [...tps].map((tp) => ({ topic: tp.topic, partition: tp.partition })).sort(compareTp)
}

/** Array.isArray without narrowing: keeps a typed argument typed after a runtime check of caller input. */
export function isList(value: unknown): boolean {
  return Array.isArray(value)
}

export function closedError(what: string): TributaryError {
  return new TributaryError('CLOSED', `The ${what} is closed`)
}

/** Offsets are non-negative integers (safe up to 2^53, far beyond any real log). */
export function checkOffset(topic: string, partition: number, offset: unknown, what = 'offset'): number {
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `Invalid ${what} ${String(offset)} for ${coordinates(topic, partition)}: offsets are integers >= 0`,
      { topic, partition },
    )
  }
  return offset
}

/**
 * Record keys and values are Buffers (a plain Uint8Array is wrapped without copying); a value may
 * also be a string, stored as its UTF-8 bytes.
 */
export function toBytes(value: unknown, field: string, topic: string, text = false): Buffer | null {
  if (value === null || value === undefined) return null
  if (Buffer.isBuffer(value)) return value
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (text && typeof value === 'string') return Buffer.from(value, 'utf8')
  throw new TributaryError(
    'INVALID_ARGUMENT',
    `The record ${field} for topic ${topic} must be a Buffer${text ? ', a string' : ''} or null`,
    {
      topic,
    },
  )
}

export function checkHeaders(headers: unknown, topic: string): Headers {
  if (headers === undefined || headers === null) return []
  if (!Array.isArray(headers)) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `Record headers for topic ${topic} must be a list of [name, Buffer]`,
    )
  }
  const copy: Headers = []
  for (const header of headers as unknown[]) {
    if (!Array.isArray(header) || typeof header[0] !== 'string' || !(header[1] instanceof Uint8Array)) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Record headers for topic ${topic} must be [name, Buffer] pairs`,
        {
          topic,
        },
      )
    }
    copy.push([header[0], toBytes(header[1], 'header value', topic)!])
  }
  return copy
}

/** Validates a partition number against a topic's partition count. */
export function checkPartition(topic: string, partition: unknown, count: number): number {
  if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0 || partition >= count) {
    throw new TributaryError(
      'INVALID_PARTITIONS',
      `Partition ${String(partition)} of topic ${topic} does not exist (the topic has ${count} partition${count === 1 ? '' : 's'})`,
      { topic, partition: typeof partition === 'number' ? partition : undefined },
    )
  }
  return partition
}
