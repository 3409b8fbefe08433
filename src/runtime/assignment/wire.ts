/**
 * The framing of the assignor's user data: one version byte, then UTF-8 JSON. A newer version only
 * ever adds fields, so a decoder reads the fields it knows from any version >= 1 and ignores the
 * rest (a rolling upgrade mixes versions in one group); an incompatible change takes a new assignor
 * protocol name instead. Anything that is not such a frame is refused, naming whose data it was.
 */
import { TributaryError } from '../../errors.js'

type Json = Record<string, unknown>

/** Refuses bytes that are not UTF-8 rather than decoding them to replacement characters. */
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** One frame: `version` then the JSON of `body`. */
export function frame(version: number, body: object): Buffer {
  return Buffer.concat([Buffer.of(version), Buffer.from(JSON.stringify(body), 'utf8')])
}

/** Reads a frame's JSON object; `what` names the data in the error (`subscription of member m-1`). */
export function unframe(what: string, data: Buffer): Json {
  const version = data.length > 0 ? data[0]! : 0
  if (version < 1) throw malformed(what, data.length === 0 ? 'it is empty' : `unknown version ${version}`)
  let body: unknown
  try {
    body = JSON.parse(utf8.decode(data.subarray(1)))
  } catch {
    throw malformed(what, `version ${version} is not followed by UTF-8 JSON`)
  }
  if (!isRecord(body)) throw malformed(what, `version ${version} is not followed by a JSON object`)
  return body
}

/** The error for user data that is not what the assignor writes. */
export function malformed(what: string, why: string): TributaryError {
  return new TributaryError('INVALID_ARGUMENT', `${what}: not Tributary task assignor user data (${why})`)
}

/** A JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Field readers: each returns the field typed, or throws naming it. */
export function reader(what: string, body: Json) {
  const fail = (field: string, expected: string): never => {
    throw malformed(what, `field ${field} is not ${expected}`)
  }
  return {
    string(field: string): string {
      const value = body[field]
      return typeof value === 'string' && value !== '' ? value : fail(field, 'a non-empty string')
    },
    nullableString(field: string): string | null {
      const value = body[field] ?? null
      return value === null || typeof value === 'string' ? value : fail(field, 'a string or null')
    },
    array<T>(field: string, item: (value: unknown) => value is T, expected: string): T[] {
      const value = body[field] ?? []
      if (!Array.isArray(value) || !value.every(item)) return fail(field, `a list of ${expected}`)
      return value
    },
    /** A JSON object whose values pass `item`, and its keys `keys` when given. */
    record<T>(
      field: string,
      item: (value: unknown) => value is T,
      expected: string,
      keys?: { test(name: string): boolean; expected: string },
    ): Record<string, T> {
      const value = body[field] ?? {}
      if (!isRecord(value) || !Object.values(value).every(item)) return fail(field, `a map to ${expected}`)
      const bad = keys ? Object.keys(value).find((name) => !keys.test(name)) : undefined
      if (keys && bad !== undefined) return fail(field, `keyed by ${keys.expected} (${bad})`)
      return value as Record<string, T>
    },
    fail,
  }
}

/** A string (possibly empty). */
export const isString = (value: unknown): value is string => typeof value === 'string'
/** An integer >= 0 that a number holds exactly (an offset sum, a partition). */
export const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
