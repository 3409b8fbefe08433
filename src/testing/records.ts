/** Turning test inputs into producer records, and topic contents into typed records and dead letters. */
import { coordinates, TributaryError } from '../errors.js'
import { DLQ_HEADERS } from '../runtime/output/dead-letter.js'
import type { Topic } from '../streams/topic.js'
import type { MemoryBroker } from '../transport/memory/broker.js'
import type { ConsumedRecord, Headers, ProducerRecord } from '../transport/types.js'
import type { DeadLetter, InputHeaders, RawInput, TestInput, TestRecord } from './types.js'

export function toHeaders(headers: InputHeaders | undefined): Headers | undefined {
  if (headers === undefined || Array.isArray(headers)) return headers
  return Object.entries(headers).map(([name, value]) => [
    name,
    typeof value === 'string' ? Buffer.from(value) : value,
  ])
}

const bytes = (data: Buffer | string | null | undefined): Buffer | null =>
  typeof data === 'string' ? Buffer.from(data) : (data ?? null)

export function encodeInput<K, V>(topic: Topic<K, V>, input: TestInput<K, V>, now: number): ProducerRecord {
  const headers = toHeaders(input.headers)
  return topic.encode({
    value: input.value,
    timestamp: input.timestamp ?? now,
    ...(input.key !== undefined ? { key: input.key } : {}),
    ...(headers ? { headers } : {}),
    ...(input.partition !== undefined ? { partition: input.partition } : {}),
  })
}

export function encodeRaw(topic: string, input: RawInput, now: number): ProducerRecord {
  const out: ProducerRecord = {
    topic,
    key: bytes(input.key),
    value: bytes(input.value),
    timestamp: input.timestamp ?? now,
  }
  const headers = toHeaders(input.headers)
  if (headers) out.headers = headers
  if (input.partition !== undefined) out.partition = input.partition
  return out
}

/**
 * Every record of a topic as a read_committed consumer sees it (markers, compacted holes and aborted
 * transactions skipped), by partition then offset; undefined when the topic does not exist. Read
 * straight from the embedded broker's logs: exact and synchronous, with no consumer to poll.
 */
export function readTopic(broker: MemoryBroker, topic: string): ConsumedRecord[] | undefined {
  const state = broker.topics.get(topic)
  if (!state) return undefined
  const out: ConsumedRecord[] = []
  for (const log of state.logs) log.read(log.startOffset, Infinity, true, out)
  return out
}

/** Decodes with the topic's codecs; a record they cannot read is an error naming its coordinates. */
export function decodeRecord<K, V>(topic: Topic<K, V>, record: ConsumedRecord): TestRecord<K, V> {
  const where = coordinates(record.topic, record.partition, record.offset)
  const decode = <T>(part: 'key' | 'value', run: () => T): T => {
    try {
      return run()
    } catch (error) {
      const codec = part === 'key' ? topic.key : topic.value
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `The ${part} of ${where} could not be decoded with codec ${codec.name}: ${error instanceof Error ? error.message : String(error)}; use readRaw() to see its bytes`,
        { topic: record.topic, partition: record.partition, offset: record.offset, cause: error },
      )
    }
  }
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: record.key === null ? null : decode('key', () => topic.key.decode(record.key)),
    value: decode('value', () => topic.value.decode(record.value)),
    headers: record.headers,
  }
}

/** Reads the coordinates and error from the `tributary.*` headers the runtime appended. */
export function decodeDeadLetter(record: ConsumedRecord): DeadLetter {
  const headers = record.headers
  // The runtime appends its headers after the original ones: the last of each name is ours.
  const ours = new Map<string, number>()
  for (const name of Object.values(DLQ_HEADERS)) {
    const index = headers.findLastIndex(([key]) => key === name)
    if (index >= 0) ours.set(name, index)
  }
  const text = (name: string): string => {
    const index = ours.get(name)
    return index === undefined ? '' : headers[index]![1].toString('utf8')
  }
  const kept = new Set(ours.values())
  return {
    topic: text(DLQ_HEADERS.topic),
    partition: Number(text(DLQ_HEADERS.partition)),
    offset: Number(text(DLQ_HEADERS.offset)),
    agent: text(DLQ_HEADERS.agent),
    error: text(DLQ_HEADERS.error),
    key: record.key,
    value: record.value,
    headers: headers.filter((_, index) => !kept.has(index)),
    timestamp: record.timestamp,
    dlq: { partition: record.partition, offset: record.offset },
  }
}
