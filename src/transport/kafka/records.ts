/**
 * Record conversion between our types and platformatic's, in tight loops: offsets and timestamps
 * become numbers once per batch (not per-record bigint maths), headers keep order and repeats.
 */
import type { MessageToProduce, RecordsBatch } from '@platformatic/kafka'
import type { ConsumedRecord, Headers } from '../types.js'

/** Batch attribute bits of the v2 record format (KIP-98). */
const TIMESTAMP_LOG_APPEND = 1 << 3
const TRANSACTIONAL = 1 << 4
const CONTROL = 1 << 5
/** Estimated framing of one record in a batch (lengths, deltas, attributes). */
const RECORD_OVERHEAD = 24
const EMPTY = Buffer.alloc(0)

/**
 * Platformatic takes headers as a Map. Each key is a distinct Buffer object, so a header name
 * repeated in the list stays repeated (Map keys compare by identity), in order.
 */
export function toHeaderMap(headers: Headers): Map<Buffer, Buffer> {
  const map = new Map<Buffer, Buffer>()
  for (let i = 0; i < headers.length; i++) {
    const [key, value] = headers[i]!
    map.set(Buffer.from(key), value)
  }
  return map
}

export function headersSize(headers: Headers): number {
  let size = 0
  for (let i = 0; i < headers.length; i++) size += headers[i]![0].length + headers[i]![1].length + 8
  return size
}

/** The message platformatic sends, with the partition already chosen by us. */
export function toMessage(
  topic: string,
  partition: number,
  key: Buffer | null | undefined,
  value: Buffer | null,
  headers: Headers | undefined,
  timestamp: number | undefined,
): MessageToProduce {
  return {
    topic,
    partition,
    key: key ?? undefined,
    value: value ?? undefined,
    headers: headers !== undefined && headers.length > 0 ? toHeaderMap(headers) : undefined,
    timestamp: timestamp === undefined ? undefined : BigInt(timestamp),
  }
}

export function estimateSize(
  key: Buffer | null | undefined,
  value: Buffer | null,
  headers: Headers | undefined,
): number {
  return (key?.length ?? 0) + (value?.length ?? 0) + (headers ? headersSize(headers) : 0) + RECORD_OVERHEAD
}

export interface AbortedTransaction {
  producerId: bigint
  firstOffset: bigint
}

/**
 * Appends the data records of `batches` at or after `fromOffset` to `out` and returns the next
 * offset to fetch. Control batches (commit/abort markers) are skipped but still advance it.
 * With `aborted` (read_committed), records of aborted transactions are dropped the way Kafka's
 * own consumer does it: a producer's batches are skipped from the first offset of an aborted
 * transaction listed by the broker until that producer's abort marker.
 */
export function appendRecords(
  out: ConsumedRecord[],
  topic: string,
  partition: number,
  batches: RecordsBatch[],
  fromOffset: number,
  aborted: AbortedTransaction[] | undefined,
): number {
  let next = fromOffset
  let pending =
    aborted && aborted.length > 0
      ? [...aborted].sort((a, b) => Number(a.firstOffset - b.firstOffset))
      : undefined
  let abortedProducers: Set<bigint> | undefined
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b]!
    const base = Number(batch.firstOffset)
    const last = base + batch.lastOffsetDelta
    if (last + 1 > next) next = last + 1
    const attributes = batch.attributes
    if (pending !== undefined) {
      while (pending.length > 0 && Number(pending[0]!.firstOffset) <= last) {
        ;(abortedProducers ??= new Set()).add(pending.shift()!.producerId)
      }
      if (pending.length === 0) pending = undefined
    }
    if ((attributes & CONTROL) !== 0) {
      // Control record key: version (int16), type (int16): 0 = abort, 1 = commit.
      const key = batch.records[0]?.key
      if (abortedProducers && key && key.length >= 4 && key.readInt16BE(2) === 0)
        abortedProducers.delete(batch.producerId)
      continue
    }
    if (abortedProducers?.has(batch.producerId) && (attributes & TRANSACTIONAL) !== 0) continue
    const logAppend = (attributes & TIMESTAMP_LOG_APPEND) !== 0
    const firstTimestamp = Number(logAppend ? batch.maxTimestamp : batch.firstTimestamp)
    const records = batch.records
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!
      const offset = base + record.offsetDelta
      // A fetch starts at the batch boundary; records before the asked offset were already read.
      if (offset < fromOffset) continue
      const raw = record.headers
      let headers: Headers
      if (raw.length === 0) headers = []
      else {
        headers = new Array<[string, Buffer]>(raw.length)
        for (let h = 0; h < raw.length; h++) {
          const pair = raw[h]!
          headers[h] = [pair[0] === null ? '' : pair[0].toString(), pair[1] ?? EMPTY]
        }
      }
      out.push({
        topic,
        partition,
        offset,
        timestamp: logAppend ? firstTimestamp : firstTimestamp + Number(record.timestampDelta),
        key: record.key,
        value: record.value,
        headers,
      })
    }
  }
  return next
}
