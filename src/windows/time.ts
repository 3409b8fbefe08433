/**
 * Where a record's time comes from, for windows: the record's timestamp (event time, the default:
 * the producer's CreateTime), a field of the value (a number of ms since the epoch, an ISO-8601
 * string, UTC when it has no offset, as `2020-07-01 00:00:17`; or a Date; `a.b` reaches into
 * nested objects), the app's clock when the record is
 * processed (processing time), or the broker's append time (ingestion time: the record timestamp
 * of a topic with `message.timestamp.type=LogAppendTime`).
 */
import { coordinates, TributaryError } from '../errors.js'

export type TimeSource = 'event' | 'processing' | 'ingestion' | { readonly field: string }

/** What a time is read from: the record and the app's clock. */
export interface Timed {
  readonly value: unknown
  readonly timestamp: number
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/** Refuses a time source that is not one of the four, naming what was given. */
export function checkTimeSource(source: unknown, where: string): TimeSource {
  if (source === 'event' || source === 'processing' || source === 'ingestion') return source
  if (
    source !== null &&
    typeof source === 'object' &&
    Object.keys(source).length === 1 &&
    typeof (source as { field?: unknown }).field === 'string' &&
    (source as { field: string }).field.length > 0
  )
    return source as { field: string }
  throw new TributaryError(
    'INVALID_ARGUMENT',
    `${where}: time must be 'event', 'processing', 'ingestion' or { field: 'name' }, got ${JSON.stringify(source) ?? String(source)}`,
  )
}

/** A date and time without an offset (`2020-07-01 00:00:17`, `2020-07-01T00:00:17.250`). */
const NAIVE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/

/** Reads `path` (dotted) from a value; undefined when a step is missing. */
function fieldOf(value: unknown, path: string): unknown {
  let at: unknown = value
  for (const step of path.split('.')) {
    if (at === null || typeof at !== 'object') return undefined
    at = (at as Record<string, unknown>)[step]
  }
  return at
}

/**
 * The time of `record` in ms since the epoch by `source`. A field that is missing or holds no time
 * throws an error naming the field, what it held and the record's topic, partition and offset (the
 * error policy then takes the record).
 */
export function timeOf(source: TimeSource, record: Timed, now: () => number): number {
  if (source === 'event' || source === 'ingestion') return record.timestamp
  if (source === 'processing') return now()
  const found = fieldOf(record.value, source.field)
  let time: number
  if (typeof found === 'number') time = found
  else if (found instanceof Date) time = found.getTime()
  else if (typeof found === 'string' && /^\d{4}-\d{2}-\d{2}/.test(found))
    // Date.parse reads a date-time without an offset as local time: here it is UTC, on every machine.
    time = Date.parse(NAIVE.test(found) ? `${found.replace(' ', 'T')}Z` : found)
  else time = NaN
  if (!Number.isFinite(time) || time < 0)
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `record ${coordinates(record.topic, record.partition, record.offset)}: time field "${source.field}" ` +
        `${found === undefined ? 'is missing' : `holds ${JSON.stringify(found)}, not a time`} ` +
        '(a number of ms since the epoch, an ISO-8601 string or a Date)',
      { topic: record.topic, partition: record.partition, offset: record.offset },
    )
  return Math.floor(time)
}
