import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mergeSessions } from '../../src/windows/sessions.js'

const GAP = 5_000

test('a record far from every session opens a session of its own', () => {
  assert.deepEqual(mergeSessions([{ start: 0, end: 1_000 }], 6_001, GAP), {
    session: { start: 6_001, end: 6_001 },
    absorbed: [],
  })
})

test('a record within the gap extends the session, at either side, the gap itself included', () => {
  assert.deepEqual(mergeSessions([{ start: 0, end: 1_000 }], 6_000, GAP).session, { start: 0, end: 6_000 })
  assert.deepEqual(mergeSessions([{ start: 10_000, end: 12_000 }], 5_000, GAP).session, {
    start: 5_000,
    end: 12_000,
  })
  assert.deepEqual(mergeSessions([{ start: 0, end: 9_000 }], 4_000, GAP).session, { start: 0, end: 9_000 })
})

test('a record that bridges two sessions merges them into one', () => {
  const merged = mergeSessions(
    [
      { start: 0, end: 2_000 },
      { start: 10_000, end: 11_000 },
      { start: 30_000, end: 30_000 },
    ],
    6_000,
    GAP,
  )
  assert.deepEqual(merged.session, { start: 0, end: 11_000 })
  assert.deepEqual(merged.absorbed, [
    { start: 0, end: 2_000 },
    { start: 10_000, end: 11_000 },
  ])
})
