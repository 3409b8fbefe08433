/**
 * The records section of a v2 record batch (KIP-98), decoded in one pass into our ConsumedRecord:
 * key, value and header values are views of the fetched (or decompressed) bytes, never copies;
 * offsets and timestamps are plain numbers.
 *
 *   record => length:varint attributes:int8 timestampDelta:varlong offsetDelta:varint
 *             keyLength:varint key valueLength:varint value headerCount:varint [header]
 *   header => keyLength:varint key:utf8 valueLength:varint value      (a length of -1 is null)
 */
import type { ConsumedRecord, Headers } from '../../types.js'
import { Cursor } from './varint.js'

const EMPTY = Buffer.alloc(0)

/** Where the records of one batch come from and what they need from its header. */
export interface RecordsSection {
  topic: string
  partition: number
  baseOffset: number
  /** CreateTime: the base timestamp the deltas add to. LogAppendTime: every record's timestamp. */
  timestamp: number
  logAppendTime: boolean
  count: number
}

/**
 * Appends the records of `section` at or after `fromOffset` to `out`. A fetch starts at a batch
 * boundary, so the records of the batch before the asked offset were already consumed: they are
 * stepped over by their length, not decoded.
 */
export function decodeRecords(
  out: ConsumedRecord[],
  bytes: Buffer,
  section: RecordsSection,
  fromOffset: number,
): void {
  const { topic, partition, baseOffset, timestamp, logAppendTime, count } = section
  const c = new Cursor(bytes)
  for (let i = 0; i < count; i++) {
    const length = c.varint()
    const end = c.position + length
    if (length < 0 || end > c.end) throw new RangeError(`record ${i} of ${count} has length ${length}`)
    c.skip(1) // attributes: unused by the v2 format
    const timestampDelta = c.varint()
    const offset = baseOffset + c.varint()
    if (offset < fromOffset) {
      c.position = end
      continue
    }
    const keyLength = c.varint()
    const key = keyLength < 0 ? null : c.bytes(keyLength)
    const valueLength = c.varint()
    const value = valueLength < 0 ? null : c.bytes(valueLength)
    const headerCount = c.varint()
    let headers: Headers
    if (headerCount <= 0) headers = []
    else {
      headers = new Array<[string, Buffer]>(headerCount)
      for (let h = 0; h < headerCount; h++) {
        const nameLength = c.varint()
        const name = nameLength < 0 ? '' : c.utf8(nameLength)
        const headerLength = c.varint()
        headers[h] = [name, headerLength < 0 ? EMPTY : c.bytes(headerLength)]
      }
    }
    if (c.position !== end) throw new RangeError(`record at offset ${offset} is not ${length} bytes long`)
    out.push({
      topic,
      partition,
      offset,
      timestamp: logAppendTime ? timestamp : timestamp + timestampDelta,
      key,
      value,
      headers,
    })
  }
}

/**
 * The type of the first control record of a control batch: its key is version:int16 type:int16,
 * 0 = ABORT, 1 = COMMIT (a transaction marker). -1 when there is none.
 */
export function controlType(bytes: Buffer, count: number): number {
  if (count < 1) return -1
  const c = new Cursor(bytes)
  c.varint() // length
  c.skip(1) // attributes
  c.varint() // timestampDelta
  c.varint() // offsetDelta
  const keyLength = c.varint()
  if (keyLength < 4) return -1
  const key = c.bytes(keyLength)
  return key.readInt16BE(2)
}
