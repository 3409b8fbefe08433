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
  value: Buffer | string | null,
  headers: Headers | undefined,
  timestamp: number | undefined,
): MessageToProduce {
  return {
    topic,
    partition,
    key: key ?? undefined,
    value: value === null ? undefined : typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
    headers: headers !== undefined && headers.length > 0 ? toHeaderMap(headers) : undefined,
    timestamp: timestamp === undefined ? undefined : BigInt(timestamp),
  }
}

export function estimateSize(
  key: Buffer | null | undefined,
  value: Buffer | string | null,
  headers: Headers | undefined,
): number {
  // A string's UTF-8 length, not its UTF-16 one: requests are sized by this and must stay in bounds.
  const valueSize =
    value === null ? 0 : typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length
  return (key?.length ?? 0) + valueSize + (headers ? headersSize(headers) : 0) + RECORD_OVERHEAD
}
