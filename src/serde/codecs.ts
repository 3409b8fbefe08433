/** The built-in codecs: raw bytes, UTF-8 strings, JSON (optionally validated by a schema). */
import type { Codec, Schema } from './types.js'

/** A value as an error message shows it: its type, then a short rendering (`number 5`). */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`
  let text: string
  switch (typeof value) {
    case 'function':
      return 'a function'
    case 'symbol':
      return value.toString()
    case 'string':
      text = JSON.stringify(value)
      break
    case 'bigint':
      text = `${value}n`
      break
    case 'object':
      try {
        text = JSON.stringify(value)
      } catch {
        text = Object.prototype.toString.call(value)
      }
      break
    case 'number':
    case 'boolean':
      text = String(value)
      break
    default:
      text = ''
  }
  const type = Array.isArray(value) ? 'array' : typeof value
  return `${type} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`
}

/** The bytes as they are (null stays null). */
export const raw: Codec<Buffer | null> = {
  name: 'raw',
  encode: (value) => value,
  decode: (bytes) => bytes,
}

/** A string codec's text: the value itself, checked (null stays null). */
function text(value: unknown): string | null {
  if (value === null || typeof value === 'string') return value
  throw new TypeError(`expected a string, got ${describeValue(value)}`)
}

/** UTF-8 text; null stays null. Invalid UTF-8 is refused rather than turned into U+FFFD silently. */
export const string: Codec<string | null> = {
  name: 'string',
  encode: (value) => {
    const checked = text(value)
    return checked === null ? null : Buffer.from(checked, 'utf8')
  },
  encodeText: text,
  decode: (bytes) => {
    if (bytes === null) return null
    // toString() without arguments is Node's UTF-8 fast path (an encoding argument is parsed first).
    const text = bytes.toString()
    if (text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(bytes)) {
      throw new Error('not valid UTF-8')
    }
    return text
  },
}

/**
 * JSON. With a schema (e.g. a zod object) every decoded value is validated, and every encoded one
 * too, so a bad record is caught at the edge with the schema's own message. A null (tombstone) is
 * not JSON and is refused; wrap in `nullable()` where tombstones are expected.
 */
export function json<T = unknown>(schema?: Schema<T>): Codec<T> {
  const text = (value: T): string => {
    const json = JSON.stringify(schema ? schema.parse(value) : value) as string | undefined
    // JSON.stringify(undefined) is undefined: no JSON at all, refused here rather than sent as "".
    if (json === undefined)
      throw new TypeError(`expected a value with a JSON form, got ${describeValue(value)}`)
    return json
  }
  return {
    name: schema ? 'json+schema' : 'json',
    encode: (value) => Buffer.from(text(value), 'utf8'),
    encodeText: text,
    decode: (bytes) => {
      if (bytes === null) throw new Error('null (a tombstone) where JSON was expected')
      const parsed = JSON.parse(bytes.toString()) as unknown
      return schema ? schema.parse(parsed) : (parsed as T)
    },
  }
}

/** Lets null through a codec in both directions (tombstones, absent keys). */
export function nullable<T>(inner: Codec<T>): Codec<T | null> {
  const encodeText = inner.encodeText
  return {
    name: `nullable(${inner.name})`,
    encode: (value) => (value === null ? null : inner.encode(value)),
    decode: (bytes) => (bytes === null ? null : inner.decode(bytes)),
    ...(encodeText && {
      encodeText: (value: T | null) => (value === null ? null : encodeText(value)),
    }),
  }
}

/** Builds a custom codec from two functions. */
export function codec<T>(
  name: string,
  encode: (value: T) => Buffer | null,
  decode: (bytes: Buffer | null) => T,
): Codec<T> {
  return { name, encode, decode }
}
