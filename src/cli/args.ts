/** Parsers for command-line values; each throws a TributaryError that says what was wrong and what is accepted. */
import { TributaryError } from '../errors.js'
import type { Acks, Compression, Headers, IsolationLevel } from '../transport/types.js'

function invalid(message: string): TributaryError {
  return new TributaryError('INVALID_ARGUMENT', message)
}

/** An integer >= `min`, written in decimal digits only (no "1e3", no "0x10", no "3.0"). */
export function parseInteger(text: string, what: string, min = 0): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN
  if (!Number.isSafeInteger(value) || value < min) {
    throw invalid(`${what} must be an integer >= ${min}, got "${text}"`)
  }
  return value
}

/** Commander's accumulator for a repeatable option. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/** `key=value`, split at the first "=": the key must not be empty, the value may be. */
export function parsePair(text: string, what: string): [string, string] {
  const eq = text.indexOf('=')
  if (eq < 0) throw invalid(`${what} "${text}" has no "="; write it as name=value`)
  const key = text.slice(0, eq).trim()
  if (key === '') throw invalid(`${what} "${text}" has an empty name; write it as name=value`)
  return [key, text.slice(eq + 1)]
}

/** Repeated `--config k=v` into a record; a name given twice is an error rather than a silent overwrite. */
export function parseConfigs(pairs: string[]): Record<string, string> {
  const configs: Record<string, string> = {}
  for (const text of pairs) {
    const [name, value] = parsePair(text, '--config')
    if (name in configs) throw invalid(`--config ${name} is given twice`)
    configs[name] = value
  }
  return configs
}

export function parseHeaders(pairs: string[]): Headers {
  return pairs.map((text) => {
    const [key, value] = parsePair(text, '--header')
    return [key, Buffer.from(value, 'utf8')]
  })
}

export function parseAcks(text: string): Acks {
  if (text === '0') return 0
  if (text === '1') return 1
  if (text === 'all' || text === '-1') return 'all'
  throw invalid(`--acks must be 0, 1 or all, got "${text}"`)
}

const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

export function parseCompression(text: string): Compression {
  const value = text.toLowerCase() as Compression
  if (!COMPRESSIONS.includes(value))
    throw invalid(`--compression must be one of ${COMPRESSIONS.join(', ')}, got "${text}"`)
  return value
}

export function parseIsolation(text: string): IsolationLevel {
  if (text === 'read_committed' || text === 'read_uncommitted') return text
  throw invalid(`--isolation must be read_committed or read_uncommitted, got "${text}"`)
}

/**
 * Where a consumer starts: the log start, the log end, an offset, the last N records of each
 * partition, or the first record at/after a time.
 */
export type From = 'beginning' | 'end' | { offset: number } | { last: number } | { timestamp: number }

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `-15m`, `-2h`, `-30s`, `-1d`, `-500ms`: that long before `now`. */
function relativeTime(text: string, now: number): number | undefined {
  const match = /^-(\d+)(ms|s|m|h|d)$/.exec(text)
  return match ? now - Number(match[1]) * UNITS[match[2]!]! : undefined
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i

/** An ISO 8601 date or date-time (without a zone: local time) or epoch milliseconds written `@1714564800000`. */
export function parseTime(text: string): number | undefined {
  const value = text.trim()
  if (/^@\d+$/.test(value)) return parseInteger(value.slice(1), 'epoch milliseconds')
  const time = ISO_DATE.test(value) ? Date.parse(value) : NaN
  return Number.isFinite(time) ? time : undefined
}

/**
 * `beginning`, `end`, an offset (`42`), an ISO 8601 date or date-time (`2024-05-01`,
 * `2024-05-01T12:00:00Z`; without a zone it is local time) or epoch milliseconds written `@1714564800000`.
 * Epoch ms take an "@" so that a number is never ambiguous between an offset and a time.
 */
export function parseFrom(text: string, now = Date.now()): From {
  const value = text.trim()
  if (value === 'beginning' || value === 'earliest') return 'beginning'
  if (value === 'end' || value === 'latest') return 'end'
  if (/^\d+$/.test(value)) return { offset: parseInteger(value, '--from offset') }
  if (/^-\d+$/.test(value)) return { last: parseInteger(value.slice(1), '--from -N (the last N records)', 1) }
  const time = relativeTime(value, now) ?? parseTime(value)
  if (time !== undefined) return { timestamp: time }
  throw invalid(
    `--from "${text}" is not understood; use beginning, end, an offset (42), the last N records of each ` +
      `partition (-10), a time ago (-15m, -2h, -1d), an ISO time (2024-05-01T12:00:00Z) or epoch milliseconds (@1714564800000)`,
  )
}
