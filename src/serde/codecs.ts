/** The built-in codecs: raw bytes, UTF-8 strings, JSON (optionally validated by a schema). */
import type { Codec, Schema } from './types.js'

/** The bytes as they are (null stays null). */
export const raw: Codec<Buffer | null> = {
  name: 'raw',
  encode: (value) => value,
  decode: (bytes) => bytes,
}

/** UTF-8 text; null stays null. Invalid UTF-8 is refused rather than turned into U+FFFD silently. */
export const string: Codec<string | null> = {
  name: 'string',
  encode: (value) => (value === null ? null : Buffer.from(value, 'utf8')),
  encodeText: (value) => value,
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
    if (json === undefined) throw new TypeError(`${String(value)} has no JSON form`)
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
