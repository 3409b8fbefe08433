/**
 * Records to produce, from our types to platformatic's: headers keep order and repeats. (Fetched
 * records are decoded from the wire by wire/batch-decode.ts.)
 */
import type { MessageToProduce } from '@platformatic/kafka'
import type { Headers } from '../types.js'

/** Estimated framing of one record in a batch (lengths, deltas, attributes). */
const RECORD_OVERHEAD = 24

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
