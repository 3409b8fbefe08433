/** How `consume` prints a record: raw text lines, one JSON envelope per line, or a kcat-style format string. */
import { isUtf8 } from 'node:buffer'
import type { ConsumedRecord } from '../transport/types.js'

export type RecordFormat = 'text' | 'json' | { template: string }

export interface FormatOptions {
  format: RecordFormat
  /** Text format only: print the key and a tab before the value. */
  printKey?: boolean
}

const NULL_TEXT = Buffer.from('null')
const TAB = Buffer.from('\t')
const NEWLINE = Buffer.from('\n')

/**
 * Text: the value's bytes exactly as stored (no decoding, so any encoding survives a pipe), `null` for a
 * tombstone, one line per record. JSON: see `envelope`.
 */
export function formatRecord(record: ConsumedRecord, options: FormatOptions): Buffer {
  if (typeof options.format === 'object') return fromTemplate(record, options.format.template)
  if (options.format === 'json') return Buffer.from(JSON.stringify(envelope(record)) + '\n', 'utf8')
  const value = record.value ?? NULL_TEXT
  if (!options.printKey) return Buffer.concat([value, NEWLINE])
  return Buffer.concat([record.key ?? NULL_TEXT, TAB, value, NEWLINE])
}

/**
 * The JSON envelope: `{topic, partition, offset, timestamp, key, value, headers}`. Key, value and header
 * values are UTF-8 strings when their bytes are valid UTF-8 (or null); otherwise they are base64 and a
 * sibling field (`keyEncoding`, `valueEncoding`, a header's `encoding`) says "base64". Nothing is lost
 * and the common case stays readable.
 */
export interface Envelope {
  topic: string
  partition: number
  offset: number
  timestamp: number
  key: string | null
  keyEncoding?: 'base64'
  value: string | null
  valueEncoding?: 'base64'
  headers: Array<{ key: string; value: string; encoding?: 'base64' }>
}

export function envelope(record: ConsumedRecord): Envelope {
  const key = encode(record.key)
  const value = encode(record.value)
  const result: Envelope = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: key.text,
    value: value.text,
    headers: record.headers.map(([name, bytes]) => {
      const header = encode(bytes)
      return header.base64
        ? { key: name, value: header.text ?? '', encoding: 'base64' }
        : { key: name, value: header.text ?? '' }
    }),
  }
  if (key.base64) result.keyEncoding = 'base64'
  if (value.base64) result.valueEncoding = 'base64'
  return result
}

function encode(bytes: Buffer | null): { text: string | null; base64: boolean } {
  if (bytes === null) return { text: null, base64: false }
  if (isUtf8(bytes)) return { text: bytes.toString('utf8'), base64: false }
  return { text: bytes.toString('base64'), base64: true }
}

const EMPTY = Buffer.alloc(0)

/**
 * kcat's `-f` fields: %t topic, %p partition, %o offset, %k key, %s value, %K/%S their sizes (-1 for
 * null), %T timestamp, %h headers as k=v,..., %% and the escapes \n, \t, \\. Key and value are their
 * bytes as stored; a null one is empty. Anything else is copied as it is.
 */
export function fromTemplate(record: ConsumedRecord, template: string): Buffer {
  const parts: Buffer[] = []
  let text = ''
  const flush = (): void => {
    if (text !== '') parts.push(Buffer.from(text, 'utf8'))
    text = ''
  }
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!
    const next = template[i + 1]
    if (c === '\\' && next !== undefined && 'nt\\'.includes(next)) {
      text += next === 'n' ? '\n' : next === 't' ? '\t' : '\\'
      i++
    } else if (c === '%' && next !== undefined && 'tpokKsSTh%'.includes(next)) {
      i++
      if (next === 'k' || next === 's') {
        flush()
        parts.push((next === 'k' ? record.key : record.value) ?? EMPTY)
      } else text += field(record, next)
    } else text += c
  }
  flush()
  return Buffer.concat(parts)
}

function field(record: ConsumedRecord, name: string): string {
  switch (name) {
    case 't':
      return record.topic
    case 'p':
      return String(record.partition)
    case 'o':
      return String(record.offset)
    case 'K':
      return String(record.key?.length ?? -1)
    case 'S':
      return String(record.value?.length ?? -1)
    case 'T':
      return String(record.timestamp)
    case 'h':
      return record.headers.map(([k, v]) => `${k}=${v.toString('utf8')}`).join(',')
    default:
      return '%'
  }
}
