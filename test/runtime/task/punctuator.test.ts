import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ManualClock } from '../../../src/runtime/clock.js'
import { Punctuator } from '../../../src/runtime/task/punctuator.js'
import { T0 } from './fakes.js'

function setup(): { clock: ManualClock; punctuator: Punctuator; woken: () => number; due: () => number[] } {
  const clock = new ManualClock(T0)
  let wakes = 0
  const punctuator = new Punctuator(clock, () => wakes++)
  return {
    clock,
    punctuator,
    woken: () => wakes,
    /** Takes every due punctuation, returning their timestamps. */
    due: () => {
      const out: number[] = []
      for (let d = punctuator.take(); d; d = punctuator.take()) out.push(d.timestamp)
      return out
    },
  }
}

const noop = (): void => undefined

describe('Punctuator', () => {
  test('a stream-time punctuation scheduled before any record takes its boundary from the first record', () => {
    const { punctuator, due } = setup()
    punctuator.schedule(1_000, 'stream', noop, -1)
    punctuator.streamTimeAdvanced(2_500) // first record: sets the boundary at 3000, fires nothing
    assert.equal(punctuator.pending, false)
    punctuator.streamTimeAdvanced(2_999)
    assert.deepEqual(due(), [])
    punctuator.streamTimeAdvanced(3_000)
    assert.deepEqual(due(), [3_000])
    punctuator.streamTimeAdvanced(3_999)
    assert.deepEqual(due(), [])
    punctuator.streamTimeAdvanced(4_000)
    assert.deepEqual(due(), [4_000])
  })

  test('a stream-time punctuation scheduled after records starts at the next boundary', () => {
    const { punctuator, due } = setup()
    punctuator.schedule(100, 'stream', noop, 250)
    punctuator.streamTimeAdvanced(299)
    assert.deepEqual(due(), [])
    punctuator.streamTimeAdvanced(300)
    assert.deepEqual(due(), [300])
  })

  test('a stream-time jump across several boundaries fires once, then aligns on the next one', () => {
    const { punctuator, due } = setup()
    punctuator.schedule(100, 'stream', noop, 0)
    punctuator.streamTimeAdvanced(750) // boundaries 100..700 passed at once
    assert.deepEqual(due(), [750])
    punctuator.streamTimeAdvanced(799)
    assert.deepEqual(due(), [])
    punctuator.streamTimeAdvanced(800)
    assert.deepEqual(due(), [800])
  })

  test('a wall-clock punctuation fires every interval on the clock and wakes its processor', async () => {
    const { clock, punctuator, due, woken } = setup()
    punctuator.schedule(1_000, 'wall', noop, -1)
    await clock.advance(999)
    assert.equal(punctuator.pending, false)
    await clock.advance(1)
    assert.equal(woken(), 1)
    assert.deepEqual(due(), [T0 + 1_000])
    await clock.advance(2_000)
    assert.equal(woken(), 3)
    assert.deepEqual(due(), [T0 + 2_000, T0 + 3_000])
  })

  test('stream time does not fire a wall-clock punctuation, nor the clock a stream-time one', async () => {
    const { clock, punctuator, due } = setup()
    punctuator.schedule(100, 'wall', noop, 0)
    punctuator.schedule(10_000, 'stream', noop, 0)
    punctuator.streamTimeAdvanced(5_000)
    assert.deepEqual(due(), [])
    await clock.advance(100)
    assert.deepEqual(due(), [T0 + 100])
  })

  test('a cancelled punctuation stops firing, including one already due', async () => {
    const { clock, punctuator, due } = setup()
    const wall = punctuator.schedule(1_000, 'wall', noop, -1)
    const stream = punctuator.schedule(100, 'stream', noop, 0)
    await clock.advance(1_000)
    punctuator.streamTimeAdvanced(100)
    assert.equal(punctuator.pending, true)
    wall.cancel()
    stream.cancel()
    assert.deepEqual(due(), [], 'due punctuations of cancelled schedules are skipped')
    await clock.advance(5_000)
    punctuator.streamTimeAdvanced(1_000)
    assert.deepEqual(due(), [])
    assert.equal(clock.pending, 0, 'the wall-clock timer is cleared')
  })

  test('cancelAll stops every schedule and forgets what was due', async () => {
    const { clock, punctuator, due } = setup()
    punctuator.schedule(10, 'wall', noop, -1)
    punctuator.schedule(10, 'stream', noop, 0)
    await clock.advance(10)
    punctuator.cancelAll()
    assert.equal(punctuator.pending, false)
    await clock.advance(100)
    punctuator.streamTimeAdvanced(100)
    assert.deepEqual(due(), [])
    assert.equal(clock.pending, 0)
  })

  test('refuses an interval below 1 ms and an unknown type, naming them', () => {
    const { punctuator } = setup()
    assert.throws(() => punctuator.schedule(0, 'wall', noop, -1), {
      code: 'INVALID_ARGUMENT',
      message: /got 0/,
    })
    assert.throws(() => punctuator.schedule(Number.NaN, 'stream', noop, -1), /intervalMs >= 1/)
    assert.throws(() => punctuator.schedule(10, 'event' as 'wall', noop, -1), /got event/)
  })
})
