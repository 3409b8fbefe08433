/**
 * Dead letters: a record that could not be decoded or processed goes to `<appId>-dlq` with its
 * original key, value and headers, and headers naming where it came from and what went wrong.
 */
import type { ConsumedRecord, ProducerRecord } from '../../transport/types.js'

export const dlqTopic = (appId: string): string => `${appId}-dlq`

/** Header names on dead letters (the original headers come first, unchanged). */
export const DLQ_HEADERS = {
  error: 'tributary.error',
  topic: 'tributary.topic',
  partition: 'tributary.partition',
  offset: 'tributary.offset',
  agent: 'tributary.agent',
} as const

export function deadLetterRecord(
  appId: string,
  record: ConsumedRecord,
  error: unknown,
  agent: string,
): ProducerRecord {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return {
    topic: dlqTopic(appId),
    key: record.key,
    value: record.value,
    timestamp: record.timestamp,
    headers: [
      ...record.headers,
      [DLQ_HEADERS.error, Buffer.from(message)],
      [DLQ_HEADERS.topic, Buffer.from(record.topic)],
      [DLQ_HEADERS.partition, Buffer.from(String(record.partition))],
      [DLQ_HEADERS.offset, Buffer.from(String(record.offset))],
      [DLQ_HEADERS.agent, Buffer.from(agent)],
    ],
  }
}
