import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { OffsetTracker } from '../../../src/runtime/task/tracker.js'
import { rec } from './fakes.js'

describe('OffsetTracker', () => {
  test('has nothing to commit before a record is done', () => {
    const tracker = new OffsetTracker()
    assert.equal(tracker.committable(), undefined)
    tracker.hand(rec(0))
    assert.equal(tracker.committable(), undefined)
    assert.equal(tracker.inFlight(), 1)
    assert.equal(tracker.firstPending(), 0)
  })

  test('a record held by several processors is done only once every one of them released it', () => {
    const tracker = new OffsetTracker()
    const e0 = tracker.hand(rec(0), 3)
    tracker.release(e0)
    tracker.release(e0)
    assert.equal(tracker.committable(), undefined, 'one of three processors still holds offset 0')
    tracker.release(e0)
    assert.equal(tracker.committable(), 1)
    assert.equal(tracker.inFlight(), 0)
    assert.equal(tracker.firstPending(), undefined)
  })

  test('the committable offset is the end of the done prefix, not of the records done', () => {
    const tracker = new OffsetTracker()
    const [e0, e1, e2] = [0, 1, 2].map((o) => tracker.hand(rec(o), 2))
    tracker.release([e1!, e2!])
    tracker.release([e1!, e2!])
    assert.equal(tracker.committable(), undefined, 'offsets 1 and 2 are done, 0 is not')
    assert.equal(tracker.firstPending(), 0)
    tracker.release(e0!)
    assert.equal(tracker.committable(), undefined)
    tracker.release(e0!)
    assert.equal(tracker.committable(), 3)
  })

  test('an output in flight holds its record after the processor released it', () => {
    const tracker = new OffsetTracker()
    const e0 = tracker.hand(rec(0))
    const e1 = tracker.hand(rec(1))
    tracker.hold([e0, e1]) // one output of a batch of two
    tracker.release([e0, e1]) // the processor is done with both
    assert.equal(tracker.committable(), undefined, 'the output is not acknowledged')
    assert.equal(tracker.inFlight(), 2)
    tracker.release([e0, e1]) // the output is acknowledged
    assert.equal(tracker.committable(), 2)
  })

  test('a single entry can be held and released as well as an array of them', () => {
    const tracker = new OffsetTracker()
    const e0 = tracker.hand(rec(0))
    tracker.hold(e0)
    tracker.release(e0)
    assert.equal(tracker.committable(), undefined)
    tracker.release(e0)
    assert.equal(tracker.committable(), 1)
  })

  test('gaps in offsets (transaction markers, compaction) commit after the last record done', () => {
    const tracker = new OffsetTracker()
    const entries = [3, 4, 9, 20].map((o) => tracker.hand(rec(o)))
    tracker.release(entries[0]!)
    assert.equal(tracker.committable(), 4)
    tracker.release(entries[2]!)
    assert.equal(tracker.committable(), 4, 'offset 4 is not done')
    tracker.release(entries[1]!)
    assert.equal(tracker.committable(), 10, 'the offset after 9, not 5: order of hand-out, not arithmetic')
    assert.equal(tracker.firstPending(), 20)
    tracker.release(entries[3]!)
    assert.equal(tracker.committable(), 21)
  })

  test('keeps the right prefix across compaction of a long history', () => {
    const tracker = new OffsetTracker()
    const entries = Array.from({ length: 5_000 }, (_, i) => tracker.hand(rec(i * 2)))
    for (let i = 0; i < 3_000; i++) tracker.release(entries[i]!)
    assert.equal(tracker.committable(), 2 * 2_999 + 1)
    assert.equal(tracker.inFlight(), 2_000)
    const late = tracker.hand(rec(10_000))
    for (let i = 3_000; i < 5_000; i++) tracker.release(entries[i]!)
    assert.equal(tracker.firstPending(), 10_000)
    tracker.release(late)
    assert.equal(tracker.committable(), 10_001)
    assert.equal(tracker.inFlight(), 0)
  })
})
