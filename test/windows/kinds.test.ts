import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TributaryError } from '../../src/errors.js'
import {
  closesAt,
  describeWindows,
  hopping,
  isClosed,
  session,
  sliding,
  tumbling,
  windowsFor,
} from '../../src/windows/kinds.js'

const bounds = (list: Array<{ start: number; end: number }>): string[] =>
  list.map((w) => `${w.start}-${w.end}`)

test('a tumbling window is epoch-aligned and holds its start but not its end', () => {
  const minute = tumbling(60_000)
  assert.deepEqual(bounds(windowsFor(minute, 0)), ['0-60000'])
  assert.deepEqual(bounds(windowsFor(minute, 59_999)), ['0-60000'])
  assert.deepEqual(bounds(windowsFor(minute, 60_000)), ['60000-120000'])
  assert.deepEqual(bounds(windowsFor(minute, 1_700_000_012_345)), ['1699999980000-1700000040000'])
})

test('a hopping record is in every window that overlaps it, oldest first, none before the epoch', () => {
  const windows = hopping(10_000, 5_000)
  assert.deepEqual(bounds(windowsFor(windows, 12_000)), ['5000-15000', '10000-20000'])
  assert.deepEqual(bounds(windowsFor(windows, 10_000)), ['5000-15000', '10000-20000'])
  assert.deepEqual(bounds(windowsFor(windows, 9_999)), ['0-10000', '5000-15000'])
  assert.deepEqual(bounds(windowsFor(windows, 3_000)), ['0-10000'], 'no window starts before 0')
  assert.deepEqual(bounds(windowsFor(hopping(10, 3), 10)), ['3-13', '6-16', '9-19'])
  assert.deepEqual(bounds(windowsFor(hopping(10, 10), 25)), bounds(windowsFor(tumbling(10), 25)))
})

test('a time window closes when stream time reaches its end plus grace', () => {
  const windows = tumbling(1_000, { grace: 200 })
  const first = { start: 0, end: 1_000 }
  assert.equal(closesAt(windows, first), 1_200)
  assert.equal(isClosed(windows, first, 1_199), false)
  assert.equal(isClosed(windows, first, 1_200), true)
})

test('a session closes once stream time is past its end by more than the gap plus grace (inclusive ends)', () => {
  const windows = session(5_000, { grace: 1_000 })
  const s = { start: 100, end: 2_000 }
  // A record at end + gap (7000) still extends the session; grace keeps it open 1000 ms more.
  assert.equal(isClosed(windows, s, 8_000), false)
  assert.equal(isClosed(windows, s, 8_001), true)
})

test('a sliding window, both ends inclusive, closes one ms after its end plus grace', () => {
  const windows = sliding(1_000)
  assert.equal(isClosed(windows, { start: 0, end: 1_000 }, 1_000), false)
  assert.equal(isClosed(windows, { start: 0, end: 1_000 }, 1_001), true)
})

test('retention defaults to the window and its grace, and must cover them', () => {
  assert.equal(tumbling(1_000).retention, 1_000)
  assert.equal(tumbling(1_000, { grace: 500 }).retention, 1_500)
  assert.equal(hopping(10_000, 1_000, { grace: 5_000, retention: 15_000 }).retention, 15_000)
  assert.throws(
    () => tumbling(10_000, { grace: 5_000, retention: 12_000 }),
    /retention \(12000 ms\) must be at least the window's span plus grace \(15000 ms\)/,
  )
})

test('bad window definitions are refused with the name of what is wrong', () => {
  const refused = (fn: () => unknown, pattern: RegExp): void =>
    assert.throws(fn, (error: unknown) => error instanceof TributaryError && pattern.test(error.message))
  refused(() => tumbling(0), /tumbling windows: size must be a whole number of milliseconds >= 1, got 0/)
  refused(() => tumbling(1.5), /size .* got 1.5/)
  refused(() => hopping(10, 20), /advance \(20 ms\) must not exceed size \(10 ms\)/)
  refused(() => session(1_000, { grace: -1 }), /session windows: grace .* >= 0, got -1/)
  refused(() => sliding(1_000, { grcae: 10 } as never), /"grcae" is not known. Did you mean "grace"\?/)
})

test('windows describe themselves for messages', () => {
  assert.equal(describeWindows(tumbling(60_000, { grace: 5_000 })), 'tumbling 60000 ms (grace 5000 ms)')
  assert.equal(describeWindows(hopping(60_000, 10_000)), 'hopping 60000 ms every 10000 ms')
  assert.equal(describeWindows(sliding(1_000)), 'sliding 1000 ms')
  assert.equal(describeWindows(session(30_000)), 'sessions with a 30000 ms gap')
})
