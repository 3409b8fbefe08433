/** A producer record checked the way the broker checks it: topic, partition, key, size and timestamp. */
import { coordinates, TributaryError } from '../../errors.js'
import { partitionForKey } from '../partitioner.js'
import type { Headers, ProducerRecord } from '../types.js'
import type { MemoryBroker, TopicState } from './broker.js'
import type { PartitionLog } from './log.js'
import { checkHeaders, checkPartition, toBytes } from './util.js'

/** A record batch's header plus one record's framing, as Kafka counts them against max.message.bytes. */
const RECORD_OVERHEAD = 61 + 20

export interface PreparedRecord {
  log: PartitionLog
  key: Buffer | null
  value: Buffer | null
  headers: Headers
  timestamp: number
  size: number
}

/**
 * Validates one record and picks its partition: the given one, else murmur2 of the key (the same on
 * every transport), else `keyless(topic, size)` (the producer's sticky partitioner).
 */
export function prepareRecord(
  broker: MemoryBroker,
  record: ProducerRecord,
  now: number,
  keyless: (topic: TopicState, size: number) => number,
): PreparedRecord {
  if (typeof record !== 'object' || record === null || typeof record.topic !== 'string') {
    throw new TributaryError('INVALID_ARGUMENT', 'Each record needs a topic (a string)')
  }
  const topic = broker.topic(record.topic)
  const name = topic.name
  const key = toBytes(record.key, 'key', name)
  const value = toBytes(record.value, 'value', name, true)
  const headers = checkHeaders(record.headers, name)
  let size = RECORD_OVERHEAD + (key?.length ?? 0) + (value?.length ?? 0)
  for (const [hk, hv] of headers) size += hk.length + hv.length + 2
  let partition: number
  if (record.partition !== undefined && record.partition !== null)
    partition = checkPartition(name, record.partition, topic.logs.length)
  else if (key !== null) partition = partitionForKey(key, topic.logs.length)
  else partition = keyless(topic, size)
  const where = coordinates(name, partition)
  if (topic.config.compactPolicy && key === null) {
    // Kafka's INVALID_RECORD: compaction keeps the latest record per key, so every record needs one.
    throw new TributaryError('KAFKA', `Compacted topic cannot accept a record without a key (${where})`, {
      topic: name,
      partition,
    })
  }
  if (size > topic.config.maxMessageBytes) {
    throw new TributaryError(
      'KAFKA',
      `Record of about ${size} bytes for ${where} is larger than max.message.bytes (${topic.config.maxMessageBytes}); Kafka's MESSAGE_TOO_LARGE`,
      { topic: name, partition },
    )
  }
  const timestamp = topic.config.logAppendTime ? now : checkTimestamp(record.timestamp, now, topic, where)
  return { log: topic.logs[partition]!, key, value, headers, timestamp, size }
}

/** CreateTime: the producer's timestamp (now when absent), within the topic's accepted range. */
function checkTimestamp(given: number | undefined, now: number, topic: TopicState, where: string): number {
  if (given === undefined || given === null) return now
  if (typeof given !== 'number' || !Number.isSafeInteger(given) || given < 0) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `Invalid timestamp ${String(given)} for ${where}: use ms since the epoch`,
    )
  }
  const { timestampAfterMaxMs: after, timestampBeforeMaxMs: before } = topic.config
  if (given - now > after || now - given > before) {
    // Kafka's INVALID_TIMESTAMP (message.timestamp.after.max.ms is one hour by default since Kafka 4.0).
    throw new TributaryError(
      'KAFKA',
      `Timestamp ${given} of the record for ${where} is out of range: it must be within [now - ${before} ms, now + ${after} ms]`,
      { topic: topic.name },
    )
  }
  return given
}
