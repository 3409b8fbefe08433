import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TributaryError } from '../../src/errors.js'
import { checkTimeSource, timeOf, type Timed } from '../../src/windows/time.js'

const record = (value: unknown, timestamp = 1_000): Timed => ({
  value,
  timestamp,
  topic: 'rides',
  partition: 2,
  offset: 41,
})
const now = (): number => 99_000

test('event and ingestion time are the record timestamp, processing time is the app clock', () => {
  assert.equal(timeOf('event', record({}), now), 1_000)
  assert.equal(timeOf('ingestion', record({}), now), 1_000)
  assert.equal(timeOf('processing', record({}), now), 99_000)
})

test('a time field may hold ms since the epoch, an ISO-8601 string or a Date, also nested', () => {
  assert.equal(timeOf({ field: 'at' }, record({ at: 1_700_000_000_123 }), now), 1_700_000_000_123)
  assert.equal(timeOf({ field: 'at' }, record({ at: '2024-03-01T12:00:00Z' }), now), Date.UTC(2024, 2, 1, 12))
  assert.equal(
    timeOf({ field: 'at' }, record({ at: '2024-03-01T12:00:00.250+01:00' }), now),
    Date.UTC(2024, 2, 1, 11, 0, 0, 250),
  )
  assert.equal(timeOf({ field: 'at' }, record({ at: new Date(5_000) }), now), 5_000)
  // Without an offset: UTC, whatever the machine's time zone (the taxi course's pickup times).
  assert.equal(
    timeOf({ field: 'at' }, record({ at: '2020-07-01 00:00:17' }), now),
    Date.UTC(2020, 6, 1, 0, 0, 17),
  )
  assert.equal(
    timeOf({ field: 'at' }, record({ at: '2020-07-01T00:00:17.5' }), now),
    Date.UTC(2020, 6, 1, 0, 0, 17, 500),
  )
  assert.equal(timeOf({ field: 'pickup.time' }, record({ pickup: { time: 7_000 } }), now), 7_000)
})

test('a missing or unreadable time field is refused with the field, its content and the record coordinates', () => {
  const refused = (value: unknown, pattern: RegExp): void =>
    assert.throws(
      () => timeOf({ field: 'pickup' }, record(value), now),
      (error: unknown) =>
        error instanceof TributaryError &&
        error.topic === 'rides' &&
        error.partition === 2 &&
        error.offset === 41 &&
        pattern.test(error.message),
    )
  refused({}, /rides\[2\]@41: time field "pickup" is missing/)
  refused({ pickup: 'yesterday' }, /time field "pickup" holds "yesterday", not a time/)
  refused({ pickup: '2024-13-45T99:00:00Z' }, /holds "2024-13-45T99:00:00Z", not a time/)
  refused({ pickup: -5 }, /holds -5, not a time/)
  refused({ pickup: true }, /holds true, not a time/)
  refused('plain text', /time field "pickup" is missing/)
})

test('a time source other than the four is refused, naming what was given', () => {
  assert.equal(checkTimeSource('event', 'x'), 'event')
  assert.deepEqual(checkTimeSource({ field: 'at' }, 'x'), { field: 'at' })
  assert.throws(
    () => checkTimeSource('wall', 'windowed table "w"'),
    /windowed table "w": time must be .* got "wall"/,
  )
  assert.throws(() => checkTimeSource({ field: '' }, 'x'), /got \{"field":""\}/)
  assert.throws(() => checkTimeSource({ path: 'a' }, 'x'), /got \{"path":"a"\}/)
})
