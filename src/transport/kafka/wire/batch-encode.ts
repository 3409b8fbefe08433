/**
 * Encodes a record batch (magic 2, KIP-98) into one Buffer: the sizes are computed first, then
 * every field is written in place. No per-record writer objects, no BigInt per timestamp: the
 * produce path's cost per record is a few length checks and copies of key and value.
 *
 * Layout: baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 |
 * crc uint32 (CRC-32C of everything after it) | attributes int16 | lastOffsetDelta int32 |
 * baseTimestamp int64 | maxTimestamp int64 | producerId int64 | producerEpoch int16 |
 * baseSequence int32 | recordCount int32 | records. A record: length varint | attributes int8 |
 * timestampDelta varlong | offsetDelta varint | key (varint length, -1 for null) | value (same) |
 * header count varint | headers (name: varint length + UTF-8, value: varint length, -1 for null).
 */
import { crc32c } from '@node-rs/crc32'
import { compressionsAlgorithms } from '@platformatic/kafka'
import type { Compression, Headers } from '../../types.js'
import { varintSize, writeVarint } from './varint.js'

/** Bytes before the first record. */
export const BATCH_HEADER_SIZE = 61
/** Where the CRC-covered part starts (the attributes). */
const CRC_START = 21
const MAGIC = 2
const TRANSACTIONAL = 1 << 4
/** The attributes' compression codes (bits 0-2). */
const CODECS: Record<Compression, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }

/** What a record batch carries of each record; the partition is the batch's. */
export interface OutRecord {
  key: Buffer | null | undefined
  /** A string is written as its UTF-8 bytes. */
  value: Buffer | string | null
  headers: Headers | undefined
  timestamp: number
}

/** The producer fields of a batch: an idempotent or transactional producer's id, epoch and sequence. */
export interface BatchProducer {
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  transactional: boolean
}

const NO_PRODUCER: BatchProducer = {
  producerId: -1n,
  producerEpoch: -1,
  baseSequence: -1,
  transactional: false,
}

function bytesSize(bytes: Buffer | null | undefined): number {
  return bytes == null ? 1 : varintSize(bytes.length) + bytes.length
}

/** A value's bytes on the wire: -1 for null; a string's UTF-8 length. */
function valueLength(value: Buffer | string | null): number {
  if (value === null) return -1
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length
}

/** The body of one record (after its length prefix), its value `valueBytes` long (-1: null). */
function bodySize(record: OutRecord, index: number, baseTimestamp: number, valueBytes: number): number {
  let size = 1 + varintSize(record.timestamp - baseTimestamp) + varintSize(index)
  size += bytesSize(record.key) + varintSize(valueBytes) + Math.max(valueBytes, 0)
  const headers = record.headers
  const count = headers?.length ?? 0
  size += varintSize(count)
  for (let h = 0; h < count; h++) {
    const [name, value] = headers![h]!
    const length = Buffer.byteLength(name)
    size += varintSize(length) + length + bytesSize(value)
  }
  return size
}

function writeBytes(buffer: Buffer, at: number, bytes: Buffer | null | undefined): number {
  if (bytes == null) return writeVarint(buffer, at, -1)
  at = writeVarint(buffer, at, bytes.length)
  bytes.copy(buffer, at)
  return at + bytes.length
}

/**
 * Buffer's own UTF-8 writer, which `write(string, offset, length, 'utf8')` ends in after parsing its
 * arguments (present on Buffer.prototype in every Node.js we support, though not in its types).
 */
interface Utf8Writable extends Buffer {
  utf8Write(text: string, offset: number, length: number): number
}

function writeValue(buffer: Buffer, at: number, value: Buffer | string | null, length: number): number {
  at = writeVarint(buffer, at, length)
  if (value === null) return at
  if (typeof value === 'string') (buffer as Utf8Writable).utf8Write(value, at, length)
  else value.copy(buffer, at)
  return at + length
}

/**
 * Writes the records of `records[indexes]` from `at`; `sizes` holds each body's size and
 * `valueLengths` each value's (-1: null).
 */
function writeRecords(
  buffer: Buffer,
  at: number,
  records: readonly OutRecord[],
  indexes: readonly number[],
  sizes: Int32Array,
  valueLengths: Int32Array,
  baseTimestamp: number,
): number {
  for (let i = 0; i < indexes.length; i++) {
    const record = records[indexes[i]!]!
    at = writeVarint(buffer, at, sizes[i]!)
    buffer[at++] = 0
    at = writeVarint(buffer, at, record.timestamp - baseTimestamp)
    at = writeVarint(buffer, at, i)
    at = writeBytes(buffer, at, record.key)
    at = writeValue(buffer, at, record.value, valueLengths[i]!)
    const headers = record.headers
    const count = headers?.length ?? 0
    at = writeVarint(buffer, at, count)
    for (let h = 0; h < count; h++) {
      const [name, value] = headers![h]!
      const length = Buffer.byteLength(name)
      at = writeVarint(buffer, at, length)
      at += buffer.write(name, at, length, 'utf8')
      at = writeBytes(buffer, at, value)
    }
  }
  return at
}

/**
 * One batch of the records at `indexes` (in that order: offset deltas follow it). The base
 * timestamp is the first record's; deltas may be negative, as Kafka allows.
 */
export function encodeBatch(
  records: readonly OutRecord[],
  indexes: readonly number[],
  compression: Compression = 'none',
  producer: BatchProducer = NO_PRODUCER,
): Buffer {
  const count = indexes.length
  if (count === 0) throw new RangeError('a record batch holds at least one record')
  const baseTimestamp = records[indexes[0]!]!.timestamp
  let maxTimestamp = baseTimestamp
  const sizes = new Int32Array(count)
  const valueLengths = new Int32Array(count)
  let recordsSize = 0
  for (let i = 0; i < count; i++) {
    const record = records[indexes[i]!]!
    if (record.timestamp > maxTimestamp) maxTimestamp = record.timestamp
    const valueBytes = valueLength(record.value)
    valueLengths[i] = valueBytes
    const size = bodySize(record, i, baseTimestamp, valueBytes)
    sizes[i] = size
    recordsSize += varintSize(size) + size
  }
  let batch: Buffer
  if (compression === 'none') {
    batch = Buffer.allocUnsafe(BATCH_HEADER_SIZE + recordsSize)
    writeRecords(batch, BATCH_HEADER_SIZE, records, indexes, sizes, valueLengths, baseTimestamp)
  } else {
    const plain = Buffer.allocUnsafe(recordsSize)
    writeRecords(plain, 0, records, indexes, sizes, valueLengths, baseTimestamp)
    const packed = compressionsAlgorithms[compression].compressSync(plain)
    batch = Buffer.allocUnsafe(BATCH_HEADER_SIZE + packed.length)
    packed.copy(batch, BATCH_HEADER_SIZE)
  }
  let attributes = CODECS[compression]
  if (producer.transactional) attributes |= TRANSACTIONAL
  batch.writeBigInt64BE(0n, 0)
  batch.writeInt32BE(batch.length - 12, 8)
  batch.writeInt32BE(-1, 12) // partition leader epoch: set by the broker
  batch.writeInt8(MAGIC, 16)
  batch.writeInt16BE(attributes, CRC_START)
  batch.writeInt32BE(count - 1, 23)
  writeInt64(batch, 27, baseTimestamp)
  writeInt64(batch, 35, maxTimestamp)
  batch.writeBigInt64BE(producer.producerId, 43)
  batch.writeInt16BE(producer.producerEpoch, 51)
  batch.writeInt32BE(producer.baseSequence, 53)
  batch.writeInt32BE(count, 57)
  batch.writeUInt32BE(crc32c(batch.subarray(CRC_START)), 17)
  return batch
}

/** An int64 from a safe integer (timestamps), without BigInt. */
function writeInt64(buffer: Buffer, at: number, n: number): void {
  const high = Math.floor(n / 0x1_0000_0000)
  buffer.writeInt32BE(high, at)
  buffer.writeUInt32BE(n - high * 0x1_0000_0000, at + 4)
}
