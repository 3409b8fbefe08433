/** Record batches as a broker stores them, built by platformatic's own encoder, then placed and flagged. */
import { crc32c } from '@node-rs/crc32'
import { createRecordsBatch, type MessageRecord } from '@platformatic/kafka'
import { varintSize, writeVarint } from '../../../../src/transport/kafka/wire/varint.js'

export const LOG_APPEND_TIME = 1 << 3
export const TRANSACTIONAL = 1 << 4
export const CONTROL = 1 << 5

export interface Message {
  key?: Buffer | null
  value?: Buffer | null
  headers?: Array<[Buffer | null, Buffer | null]>
  timestamp?: number
}

export interface BatchOptions {
  baseOffset?: number
  /** Attribute bits set on top of platformatic's (timestamp type, control). */
  attributes?: number
  compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  /** Makes it a transactional batch of this producer. */
  producerId?: number
  /** What the broker writes in LogAppendTime batches. */
  maxTimestamp?: number
}

export function batch(messages: Message[], options: BatchOptions = {}): Buffer {
  const records: MessageRecord[] = messages.map((m) => ({
    topic: 't',
    key: m.key ?? undefined,
    // Platformatic writes an absent value as null (-1), as its types do not say.
    value: (m.value ?? undefined) as Buffer,
    // A Map with one Buffer object per entry keeps repeated names; platformatic writes null as -1.
    headers: new Map((m.headers ?? []).map(([k, v]) => [k as Buffer, v as Buffer])),
    timestamp: BigInt(m.timestamp ?? 1_700_000_000_000),
  }))
  const bytes = Buffer.from(
    createRecordsBatch(records, {
      compression: options.compression ?? 'none',
      ...(options.producerId === undefined
        ? {}
        : { producerId: BigInt(options.producerId), transactionalId: 'txn' }),
    }).buffer,
  )
  bytes.writeBigInt64BE(BigInt(options.baseOffset ?? 0), 0)
  if (options.attributes) bytes.writeInt16BE(bytes.readInt16BE(21) | options.attributes, 21)
  if (options.maxTimestamp !== undefined) bytes.writeBigInt64BE(BigInt(options.maxTimestamp), 35)
  return seal(bytes)
}

/** Writes the batch CRC again after a change (crc32c from attributes to the end). */
export function seal(bytes: Buffer): Buffer {
  bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17)
  return bytes
}

/** `count` records with values v<offset> and no key: the shape most tests need. */
export function values(baseOffset: number, count: number, options: BatchOptions = {}): Buffer {
  const messages = Array.from({ length: count }, (_, i) => ({
    value: Buffer.from(`v${baseOffset + i}`),
    timestamp: 1_700_000_000_000 + i,
  }))
  return batch(messages, { ...options, baseOffset })
}

/** A commit (type 1) or abort (type 0) marker of a producer's transaction. */
export function marker(offset: number, producerId: number, type: 0 | 1): Buffer {
  const key = Buffer.alloc(4)
  key.writeInt16BE(type, 2)
  // Control record value: version:int16 coordinatorEpoch:int32.
  return batch([{ key, value: Buffer.alloc(6) }], { baseOffset: offset, producerId, attributes: CONTROL })
}

/**
 * A batch of records whose timestamp deltas are written by our own varint writer: platformatic's
 * corrupts varlongs of 2^31 or more (see src/transport/kafka/send-queue.ts), Kafka's Java client
 * does not, so a broker holds such batches.
 */
export function farTimestamps(baseOffset: number, baseTimestamp: number, deltas: number[]): Buffer {
  const records = deltas.map((delta, i) => {
    const value = Buffer.from(`v${baseOffset + i}`)
    const body = Buffer.alloc(
      1 + varintSize(delta) + varintSize(i) + 1 + varintSize(value.length) + value.length + 1,
    )
    let at = 1 // attributes 0
    at = writeVarint(body, at, delta)
    at = writeVarint(body, at, i)
    at = writeVarint(body, at, -1) // null key
    at = writeVarint(body, at, value.length)
    at += value.copy(body, at)
    writeVarint(body, at, 0) // no headers
    const length = Buffer.alloc(varintSize(body.length))
    writeVarint(length, 0, body.length)
    return Buffer.concat([length, body])
  })
  const header = Buffer.alloc(61)
  header.writeBigInt64BE(BigInt(baseOffset), 0)
  header.writeInt32BE(61 - 12 + records.reduce((n, r) => n + r.length, 0), 8)
  header.writeInt8(2, 16)
  header.writeInt32BE(deltas.length - 1, 23)
  header.writeBigInt64BE(BigInt(baseTimestamp), 27)
  header.writeBigInt64BE(BigInt(baseTimestamp + Math.max(...deltas)), 35)
  header.writeBigInt64BE(-1n, 43)
  header.writeInt16BE(-1, 51)
  header.writeInt32BE(-1, 53)
  header.writeInt32BE(deltas.length, 57)
  return seal(Buffer.concat([header, ...records]))
}
