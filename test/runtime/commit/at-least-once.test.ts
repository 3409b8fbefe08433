import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { AtLeastOnce } from '../../../src/runtime/commit/at-least-once.js'
import { Committer } from '../../../src/runtime/commit/committer.js'
import { gate, turns } from '../task/fakes.js'
import { fakeConsumer, fakeTask, type Calls } from './fakes.js'

describe('AtLeastOnce', () => {
  test('sends only the offsets that moved since the last commit, and nothing when none did', async () => {
    const calls: Calls = []
    const { consumer, commits } = fakeConsumer(calls)
    const protocol = new AtLeastOnce(consumer)
    const committer = new Committer(protocol)
    const t0 = fakeTask('0_0', 0, calls)
    const t1 = fakeTask('0_1', 1, calls)
    t0.set('a', 5)
    t1.set('a', 3)
    await committer.commit(() => [t0.task, t1.task])
    t0.set('a', 7)
    await committer.commit(() => [t0.task, t1.task])
    await committer.commit(() => [t0.task, t1.task])
    assert.deepEqual(commits, [
      [
        { topic: 'a', partition: 0, offset: 5 },
        { topic: 'a', partition: 1, offset: 3 },
      ],
      [{ topic: 'a', partition: 0, offset: 7 }],
    ])
  })

  test("flushes every task's state manager, and waits for the flushes, before committing offsets", async () => {
    const calls: Calls = []
    const { consumer } = fakeConsumer(calls)
    const committer = new Committer(new AtLeastOnce(consumer))
    const t0 = fakeTask('0_0', 0, calls)
    const t1 = fakeTask('0_1', 1, calls)
    t0.set('a', 1)
    t1.set('a', 2)
    const flushed = gate()
    t1.state.flushGate = flushed.promise
    const done = committer.commit(() => [t0.task, t1.task])
    await turns()
    assert.deepEqual(
      calls,
      ['flush 0_0', 'flush 0_1', 'flushed 0_0'],
      'no commit while a flush is unacknowledged',
    )
    flushed.open()
    await done
    assert.deepEqual(calls, [
      'flush 0_0',
      'flush 0_1',
      'flushed 0_0',
      'flushed 0_1',
      'commit a[0]@1 a[1]@2',
      'committed a[0]@1 a[1]@2',
      'checkpoint 0_0 a[0]@1',
      'checkpoint 0_1 a[1]@2',
    ])
  })

  test('fixes the offsets before the flush: a record done during the flush waits for the next commit', async () => {
    const calls: Calls = []
    const { consumer, commits } = fakeConsumer(calls)
    const committer = new Committer(new AtLeastOnce(consumer))
    const t0 = fakeTask('0_0', 0, calls)
    t0.set('a', 4)
    const flushed = gate()
    t0.state.flushGate = flushed.promise
    const done = committer.commit(() => [t0.task])
    await turns()
    t0.set('a', 9) // its effects may not be in what is being flushed
    flushed.open()
    await done
    assert.deepEqual(commits, [[{ topic: 'a', partition: 0, offset: 4 }]])
  })

  test('checkpoints each task with its own offsets, after the commit', async () => {
    const calls: Calls = []
    const { consumer } = fakeConsumer(calls)
    const committer = new Committer(new AtLeastOnce(consumer))
    const t0 = fakeTask('0_0', 0, calls)
    const t1 = fakeTask('0_1', 1, calls)
    t0.set('a', 10)
    t1.set('a', 20)
    await committer.commit(() => [t0.task, t1.task])
    assert.deepEqual(t0.state.checkpoints, [[{ topic: 'a', partition: 0, offset: 10 }]])
    assert.deepEqual(t1.state.checkpoints, [[{ topic: 'a', partition: 1, offset: 20 }]])
  })

  test('a task is checkpointed with its own topics only, not those of a task of another sub-topology on the same partition number', async () => {
    const calls: Calls = []
    const { consumer } = fakeConsumer(calls)
    const committer = new Committer(new AtLeastOnce(consumer))
    const a0 = fakeTask('0_0', 0, calls) // sub-topology 0 reads topic a
    const b0 = fakeTask('1_0', 0, calls) // sub-topology 1 reads topic b
    a0.set('a', 10)
    b0.set('b', 20)
    await committer.commit(() => [a0.task, b0.task])
    assert.deepEqual(a0.state.checkpoints, [[{ topic: 'a', partition: 0, offset: 10 }]])
    assert.deepEqual(b0.state.checkpoints, [[{ topic: 'b', partition: 0, offset: 20 }]])
  })

  test('a failed commit leaves no checkpoint and the offsets are sent again by the next commit', async () => {
    const calls: Calls = []
    const fake = fakeConsumer(calls)
    const committer = new Committer(new AtLeastOnce(fake.consumer))
    const t0 = fakeTask('0_0', 0, calls)
    t0.set('a', 3)
    fake.answer = () => Promise.reject(new Error('COORDINATOR_NOT_AVAILABLE'))
    await assert.rejects(
      committer.commit(() => [t0.task]),
      /COORDINATOR_NOT_AVAILABLE/,
    )
    assert.deepEqual(t0.state.checkpoints, [])
    fake.answer = () => Promise.resolve()
    await committer.commit(() => [t0.task])
    assert.deepEqual(fake.commits, [
      [{ topic: 'a', partition: 0, offset: 3 }],
      [{ topic: 'a', partition: 0, offset: 3 }],
    ])
    assert.deepEqual(t0.state.checkpoints, [[{ topic: 'a', partition: 0, offset: 3 }]])
  })

  test('forgotten partitions are committed again by their next owner task', async () => {
    const calls: Calls = []
    const fake = fakeConsumer(calls)
    const protocol = new AtLeastOnce(fake.consumer)
    const committer = new Committer(protocol)
    const t0 = fakeTask('0_0', 0, calls)
    t0.set('a', 3)
    await committer.commit(() => [t0.task])
    assert.equal(protocol.committed.size, 1)
    protocol.forget([{ topic: 'a', partition: 0 }])
    assert.equal(protocol.committed.size, 0)
    await committer.commit(() => [t0.task])
    assert.equal(fake.commits.length, 2)
  })
})
