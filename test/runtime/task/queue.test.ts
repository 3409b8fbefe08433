import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ManualClock } from '../../../src/runtime/clock.js'
import { EntryQueue } from '../../../src/runtime/task/queue.js'
import { OffsetTracker } from '../../../src/runtime/task/tracker.js'
import { rec, T0, turns } from './fakes.js'

function setup(): {
  clock: ManualClock
  queue: EntryQueue
  entry: (offset: number) => ReturnType<OffsetTracker['hand']>
} {
  const clock = new ManualClock(T0)
  const tracker = new OffsetTracker()
  return { clock, queue: new EntryQueue(clock), entry: (offset) => tracker.hand(rec(offset)) }
}

/** Tracks a promise's outcome without awaiting it. */
function watch<T>(promise: Promise<T>): { settled: boolean; value: T | undefined } {
  const state = { settled: false, value: undefined as T | undefined }
  void promise.then((value) => {
    state.settled = true
    state.value = value
  })
  return state
}

describe('EntryQueue', () => {
  test('hands entries out in push order', () => {
    const { queue, entry } = setup()
    const entries = [entry(0), entry(1), entry(2)]
    for (const e of entries) queue.push(e)
    assert.equal(queue.length, 3)
    assert.equal(queue.take(), entries[0])
    assert.equal(queue.take(), entries[1])
    assert.equal(queue.length, 1)
    assert.deepEqual(queue.drain(), [entries[2]])
    assert.equal(queue.take(), undefined)
    assert.equal(queue.length, 0)
  })

  test('a wait with a limit times out on the clock, not before', async () => {
    const { clock, queue } = setup()
    const waited = watch(queue.wait(500))
    assert.equal(queue.waitingOnClock, true)
    await clock.advance(499)
    assert.equal(waited.settled, false)
    assert.equal(queue.waitingOnClock, true)
    await clock.advance(1)
    assert.equal(waited.settled, true)
    assert.equal(waited.value, false)
    assert.equal(queue.waitingOnClock, false)
    assert.equal(clock.pending, 0)
  })

  test('a pushed record wakes a waiter and clears its timer', async () => {
    const { clock, queue, entry } = setup()
    const waited = watch(queue.wait(1_000))
    queue.push(entry(0))
    await turns(2)
    assert.equal(waited.value, true)
    assert.equal(queue.waitingOnClock, false)
    assert.equal(clock.pending, 0, 'the time limit of a woken waiter is cleared')
  })

  test('a wait without a limit is not on the clock and waits for a record', async () => {
    const { clock, queue, entry } = setup()
    const waited = watch(queue.wait())
    assert.equal(queue.waitingOnClock, false)
    assert.equal(clock.pending, 0)
    await clock.advance(60_000)
    assert.equal(waited.settled, false)
    queue.push(entry(0))
    await turns(2)
    assert.equal(waited.value, true)
  })

  test('a waiter that timed out is withdrawn, so the next record wakes one still waiting', async () => {
    const { clock, queue, entry } = setup()
    const timed = watch(queue.wait(100))
    const open = watch(queue.wait())
    await clock.advance(100)
    assert.equal(timed.value, false)
    queue.push(entry(0))
    await turns(2)
    assert.equal(open.settled, true, 'the record went to the waiter still waiting')
    assert.equal(open.value, true)
  })

  test('waitingOnClock counts every timed waiter until each is woken or timed out', async () => {
    const { clock, queue, entry } = setup()
    const a = watch(queue.wait(100))
    const b = watch(queue.wait(300))
    queue.push(entry(0)) // wakes a
    await turns(2)
    assert.equal(a.value, true)
    assert.equal(queue.waitingOnClock, true, 'b still waits on the clock')
    await clock.advance(300)
    assert.equal(b.value, false)
    assert.equal(queue.waitingOnClock, false)
  })

  test('wakeAll wakes every waiter with true and clears their timers', async () => {
    const { clock, queue } = setup()
    const a = watch(queue.wait(100))
    const b = watch(queue.wait())
    queue.closing = true
    queue.wakeAll()
    await turns(2)
    assert.deepEqual([a.value, b.value], [true, true])
    assert.equal(queue.waitingOnClock, false)
    assert.equal(clock.pending, 0)
  })
})
