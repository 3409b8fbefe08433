/**
 * The Produce request and response, version 9 (the first flexible one, Kafka 2.4+; KIP-482),
 * written and read by us so that a request is the batches we encoded plus a few bytes of framing.
 *
 * Request: transactional_id COMPACT_NULLABLE_STRING | acks INT16 | timeout_ms INT32 |
 *   topic_data COMPACT_ARRAY(name COMPACT_STRING | partition_data COMPACT_ARRAY(index INT32 |
 *   records COMPACT_RECORDS | tags) | tags) | tags.
 * Response: responses COMPACT_ARRAY(name | partition_responses COMPACT_ARRAY(index INT32 |
 *   error_code INT16 | base_offset INT64 | log_append_time_ms INT64 | log_start_offset INT64 |
 *   record_errors COMPACT_ARRAY(batch_index INT32 | message COMPACT_NULLABLE_STRING | tags) |
 *   error_message COMPACT_NULLABLE_STRING | tags) | tags) | throttle_time_ms INT32 | tags.
 */
import { Writer, type Reader } from '@platformatic/kafka'
import { Cursor, uvarintSize, writeUvarint } from './varint.js'

export const PRODUCE_API_KEY = 0
export const PRODUCE_VERSION = 9

export interface PartitionBatch {
  partition: number
  batch: Buffer
}

export interface TopicBatches {
  topic: string
  partitions: PartitionBatch[]
}

export interface PartitionAnswer {
  topic: string
  partition: number
  errorCode: number
  baseOffset: number
  /** The broker's words on a refused batch (error_message, then the first record error). */
  message: string | null
}

function stringSize(text: string): number {
  const length = Buffer.byteLength(text)
  return uvarintSize(length + 1) + length
}

function writeString(buffer: Buffer, at: number, text: string): number {
  const length = Buffer.byteLength(text)
  at = writeUvarint(buffer, at, length + 1)
  return at + buffer.write(text, at, length, 'utf8')
}

/**
 * The request body as a platformatic Writer over our buffers: the framing in small buffers, each
 * batch as it was encoded (the connection joins them once, with its request header).
 */
export function produceRequest(
  transactionalId: string | undefined,
  acks: number,
  timeoutMs: number,
  topics: readonly TopicBatches[],
): Writer {
  const writer = Writer.create()
  const head = Buffer.allocUnsafe(
    (transactionalId === undefined ? 1 : stringSize(transactionalId)) + 6 + uvarintSize(topics.length + 1),
  )
  let at = transactionalId === undefined ? writeUvarint(head, 0, 0) : writeString(head, 0, transactionalId)
  at = head.writeInt16BE(acks, at)
  at = head.writeInt32BE(timeoutMs, at)
  writeUvarint(head, at, topics.length + 1)
  writer.append(head)
  for (let t = 0; t < topics.length; t++) {
    const { topic, partitions } = topics[t]!
    const name = Buffer.allocUnsafe(stringSize(topic) + uvarintSize(partitions.length + 1))
    writeUvarint(name, writeString(name, 0, topic), partitions.length + 1)
    writer.append(name)
    for (let p = 0; p < partitions.length; p++) {
      const { partition, batch } = partitions[p]!
      const prefix = Buffer.allocUnsafe(4 + uvarintSize(batch.length + 1))
      writeUvarint(prefix, prefix.writeInt32BE(partition, 0), batch.length + 1)
      writer.append(prefix)
      writer.append(batch)
      writer.append(TAGS) // the partition's tagged fields
    }
    writer.append(TAGS) // the topic's
  }
  writer.append(TAGS) // the request's
  if (acks === 0) writer.context.noResponse = true
  return writer
}

const TAGS = Buffer.from([0])

function nullableString(cursor: Cursor): string | null {
  const length = cursor.uvarint() - 1
  return length < 0 ? null : cursor.bytes(length).toString('utf8')
}

/** Every partition's answer; errors are data here, the caller decides what each one means. */
export function parseProduceResponse(
  _correlationId: number,
  _apiKey: number,
  _apiVersion: number,
  reader: Reader,
): PartitionAnswer[] {
  const cursor = new Cursor(reader.buffer.slice(reader.position))
  const answers: PartitionAnswer[] = []
  const topics = cursor.uvarint() - 1
  for (let t = 0; t < topics; t++) {
    const topic = cursor.bytes(cursor.uvarint() - 1).toString('utf8')
    const partitions = cursor.uvarint() - 1
    for (let p = 0; p < partitions; p++) {
      const partition = cursor.int32()
      const errorCode = cursor.int16()
      const baseOffset = cursor.int64()
      cursor.skip(16) // log_append_time_ms, log_start_offset
      let recordError: string | null = null
      const recordErrors = cursor.uvarint() - 1
      for (let e = 0; e < recordErrors; e++) {
        const index = cursor.int32()
        const text = nullableString(cursor)
        recordError ??= `record ${index} of the batch: ${text ?? 'refused'}`
        cursor.skipTaggedFields()
      }
      const message = nullableString(cursor)
      cursor.skipTaggedFields()
      answers.push({ topic, partition, errorCode, baseOffset, message: message ?? recordError })
    }
    cursor.skipTaggedFields()
  }
  return answers
}
