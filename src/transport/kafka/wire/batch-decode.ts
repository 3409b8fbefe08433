/**
 * The record batches of one fetched partition (the v2 format of KIP-98), from the response bytes
 * straight to ConsumedRecord: transaction markers, read_committed filtering, decompression, CRC.
 *
 *   batch => baseOffset:int64 batchLength:int32 partitionLeaderEpoch:int32 magic:int8 crc:uint32
 *            attributes:int16 lastOffsetDelta:int32 baseTimestamp:int64 maxTimestamp:int64
 *            producerId:int64 producerEpoch:int16 baseSequence:int32 recordCount:int32 records
 *
 * The CRC (crc32c) covers attributes to the end of the batch; it is checked as Kafka's consumer
 * does by default (check.crcs), a hardware crc32c costing a fraction of decoding the records.
 */
import { crc32c } from '@node-rs/crc32'
import { compressionsAlgorithmsByBitmask } from '@platformatic/kafka'
import { TributaryError, type ErrorCode } from '../../../errors.js'
import type { ConsumedRecord } from '../../types.js'
import { controlType, decodeRecords, type RecordsSection } from './record-decode.js'

export interface AbortedTransaction {
  producerId: number
  firstOffset: number
}

/** baseOffset and batchLength: what a batch needs before we know whether it is whole. */
const BATCH_HEAD = 12
/** The fixed part of a v2 batch, baseOffset to recordCount. */
const BATCH_HEADER = 61
const CRC_AT = 17
const ATTRIBUTES_AT = 21
const COMPRESSION = 0x7
const TIMESTAMP_LOG_APPEND = 1 << 3
const TRANSACTIONAL = 1 << 4
const CONTROL = 1 << 5
const ABORT = 0
/** The codec names of the attribute bits (KIP-110 added zstd). */
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

const int64 = (b: Buffer, at: number): number => b.readInt32BE(at) * 0x1_0000_0000 + b.readUInt32BE(at + 4)

/**
 * Appends the data records at or after `fromOffset` of the batches in `data` to `out` and returns
 * the next offset to fetch. Control batches (commit/abort markers) are skipped but still advance
 * it. With `aborted` (read_committed), records of aborted transactions are dropped the way Kafka's
 * own consumer does it: a producer's batches are skipped from the first offset of an aborted
 * transaction listed by the broker until that producer's abort marker. A batch cut short at the
 * end (the broker fills a fetch up to its byte limit) is left for the next fetch.
 *
 * A batch that cannot be read (corrupt, old format, unknown compression) throws a TributaryError
 * whose `offset` is that batch's: the records before it are already in `out`.
 */
export function decodeBatches(
  out: ConsumedRecord[],
  topic: string,
  partition: number,
  data: Buffer,
  fromOffset: number,
  aborted: AbortedTransaction[] | undefined,
): number {
  let next = fromOffset
  const pending =
    aborted && aborted.length > 0 ? [...aborted].sort((a, b) => a.firstOffset - b.firstOffset) : []
  let abortedProducers: Set<number> | undefined
  for (let at = 0; data.length - at >= BATCH_HEAD;) {
    const end = at + BATCH_HEAD + data.readInt32BE(at + 8)
    if (end > data.length) break
    const baseOffset = int64(data, at)
    const fail = (why: string, cause?: unknown, code: ErrorCode = 'KAFKA'): TributaryError =>
      batchError(topic, partition, baseOffset, why, cause, code)
    if (end < at + BATCH_HEADER) throw fail(`its length ${end - at - BATCH_HEAD} is too short`)
    const magic = data.readInt8(at + 16)
    if (magic !== 2)
      throw fail(`it has magic ${magic}: only the v2 record format of Kafka 0.11 and later is read`)
    if (data.readUInt32BE(at + CRC_AT) !== crc32c(data.subarray(at + ATTRIBUTES_AT, end)))
      throw fail('its CRC does not match: the data is corrupt')
    const attributes = data.readInt16BE(at + ATTRIBUTES_AT)
    const last = baseOffset + data.readInt32BE(at + 23)
    if (last + 1 > next) next = last + 1
    const producerId = int64(data, at + 43)
    while (pending.length > 0 && pending[0]!.firstOffset <= last)
      (abortedProducers ??= new Set()).add(pending.shift()!.producerId)
    const start = at
    at = end
    if (
      (attributes & CONTROL) === 0 &&
      (attributes & TRANSACTIONAL) !== 0 &&
      abortedProducers?.has(producerId)
    )
      continue
    // Whole batches before the asked offset: nothing to decode (and nothing to decompress).
    if (last < fromOffset && (attributes & CONTROL) === 0) continue
    const count = data.readInt32BE(start + 57)
    let records = data.subarray(start + BATCH_HEADER, end)
    const compression = attributes & COMPRESSION
    const algorithm = compressionsAlgorithmsByBitmask[compression]
    if (compression !== 0 && (algorithm === undefined || algorithm.available === false))
      throw fail(
        `it is compressed with ${CODECS[compression] ?? `codec ${compression}`}, which this Node.js cannot decompress`,
        undefined,
        'NOT_SUPPORTED',
      )
    try {
      if (compression !== 0) records = algorithm!.decompressSync(records)
      if ((attributes & CONTROL) !== 0) {
        if (abortedProducers && controlType(records, count) === ABORT) abortedProducers.delete(producerId)
        continue
      }
      const logAppendTime = (attributes & TIMESTAMP_LOG_APPEND) !== 0
      const header: RecordsSection = {
        topic,
        partition,
        baseOffset,
        timestamp: int64(data, start + (logAppendTime ? 35 : 27)),
        logAppendTime,
        count,
      }
      decodeRecords(out, records, header, fromOffset)
    } catch (error) {
      throw fail('its records are malformed', error)
    }
  }
  return next
}

function batchError(
  topic: string,
  partition: number,
  offset: number,
  why: string,
  cause: unknown,
  code: ErrorCode,
): TributaryError {
  const reason = cause instanceof Error ? `${why} (${cause.message})` : why
  return new TributaryError(
    code,
    `Could not read the record batch at offset ${offset} of ${topic}-${partition}: ${reason}`,
    { topic, partition, offset, cause },
  )
}
