/**
 * Fetch (api key 1) versions 13 to 17, the ones with topic ids (KIP-516). Requests are
 * platformatic's; the response is ours: one pass over one contiguous Buffer, numbers instead of
 * BigInts, and each partition's records left as a view of the response bytes, decoded later by
 * the fetcher, which knows the offset it asked for (wire/batch-decode.ts).
 *
 *   Fetch Response (v13-17) => throttle_time_ms:int32 error_code:int16 session_id:int32 [responses] TAG_BUFFER
 *     responses => topic_id:uuid [partitions] TAG_BUFFER
 *       partitions => partition_index:int32 error_code:int16 high_watermark:int64
 *                     last_stable_offset:int64 log_start_offset:int64 [aborted_transactions]
 *                     preferred_read_replica:int32 records:COMPACT_RECORDS TAG_BUFFER
 *         aborted_transactions => producer_id:int64 first_offset:int64 TAG_BUFFER
 *
 * Arrays are compact (length + 1, 0 for null). Tagged fields (v15's current leader, v16's node
 * endpoints) are read past. Error codes are returned, never thrown: the fetcher handles each
 * partition's on its own, and the top-level one as a failed request.
 */
import { fetchV13, fetchV14, fetchV15, fetchV16, fetchV17, type Reader } from '@platformatic/kafka'
import type { AbortedTransaction } from './batch-decode.js'
import { Cursor } from './varint.js'

export const FETCH_API_KEY = 1
export const FETCH_MIN_VERSION = 13
export const FETCH_MAX_VERSION = 17

/** The request builders by version (v13 and v14 still carry replica_id). */
export const fetchRequests = {
  13: fetchV13.createRequest,
  14: fetchV14.createRequest,
  15: fetchV15.createRequest,
  16: fetchV16.createRequest,
  17: fetchV17.createRequest,
} as const

export type FetchVersion = keyof typeof fetchRequests

export interface FetchedPartition {
  partition: number
  errorCode: number
  highWatermark: number
  /** -1 when the broker does not know it (read_uncommitted on old brokers). */
  lastStableOffset: number
  logStartOffset: number
  /** Listed for read_committed fetches only; undefined when the broker sent none. */
  abortedTransactions: AbortedTransaction[] | undefined
  /** The record batches, a view of the response; undefined when there are none. */
  records: Buffer | undefined
}

export interface FetchedTopic {
  topicId: string
  partitions: FetchedPartition[]
}

export interface FetchResult {
  throttleTimeMs: number
  errorCode: number
  responses: FetchedTopic[]
}

/** A `connection.send` response parser. */
export function parseFetchResponse(
  _correlationId: number,
  _apiKey: number,
  _apiVersion: number,
  reader: Reader,
): FetchResult {
  // One view when the response came in one socket chunk, else one copy of the whole response.
  return readFetchResponse(new Cursor(reader.buffer.slice(reader.position)))
}

export function readFetchResponse(c: Cursor): FetchResult {
  const throttleTimeMs = c.int32()
  const errorCode = c.int16()
  c.skip(4) // session_id: we use no fetch sessions (KIP-227), always 0
  const responses = new Array<FetchedTopic>(Math.max(0, c.uvarint() - 1))
  for (let t = 0; t < responses.length; t++) {
    const topicId = c.uuid()
    const partitions = new Array<FetchedPartition>(Math.max(0, c.uvarint() - 1))
    for (let p = 0; p < partitions.length; p++) partitions[p] = readPartition(c)
    c.skipTaggedFields()
    responses[t] = { topicId, partitions }
  }
  c.skipTaggedFields()
  return { throttleTimeMs, errorCode, responses }
}

function readPartition(c: Cursor): FetchedPartition {
  const partition = c.int32()
  const errorCode = c.int16()
  const highWatermark = c.int64()
  const lastStableOffset = c.int64()
  const logStartOffset = c.int64()
  let abortedTransactions: AbortedTransaction[] | undefined
  const aborted = c.uvarint() - 1
  if (aborted >= 0) {
    abortedTransactions = new Array<AbortedTransaction>(aborted)
    for (let a = 0; a < aborted; a++) {
      abortedTransactions[a] = { producerId: c.int64(), firstOffset: c.int64() }
      c.skipTaggedFields()
    }
  }
  c.skip(4) // preferred_read_replica: we fetch from leaders only (no KIP-392 rack awareness)
  const size = c.uvarint() - 1
  const records = size > 0 ? c.bytes(size) : undefined
  c.skipTaggedFields()
  return {
    partition,
    errorCode,
    highWatermark,
    lastStableOffset,
    logStartOffset,
    abortedTransactions,
    records,
  }
}
