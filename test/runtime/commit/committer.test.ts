import assert from 'node:assert/strict'
import { describe, mock, test } from 'node:test'
import { AtLeastOnce } from '../../../src/runtime/commit/at-least-once.js'
import { Committer } from '../../../src/runtime/commit/committer.js'
import type { CommitProtocol, PreparedCommit } from '../../../src/runtime/commit/protocol.js'
import type { StreamTask } from '../../../src/runtime/task/task.js'
import { gate, turns, until } from '../task/fakes.js'
import { fakeConsumer, fakeTask, type Calls } from './fakes.js'

describe('Committer', () => {
  test('runs commits one at a time in call order: a slow first commit is not overtaken', async () => {
    const calls: Calls = []
    const fake = fakeConsumer(calls)
    const committer = new Committer(new AtLeastOnce(fake.consumer))
    const t0 = fakeTask('0_0', 0, calls)
    const slow = gate()
    fake.answer = () => slow.promise
    t0.set('a', 5)
    const first = committer.commit(() => [t0.task])
    await until('the first commit sent', () => fake.commits.length === 1)
    fake.answer = () => Promise.resolve()
    t0.set('a', 8)
    let secondDone = false
    const second = committer.commit(() => [t0.task]).then(() => (secondDone = true))
    await turns()
    assert.equal(fake.commits.length, 1, 'the second commit waits for the first')
    assert.equal(secondDone, false)
    assert.deepEqual(calls, ['flush 0_0', 'flushed 0_0', 'commit a[0]@5'], 'not even prepared')
    slow.open()
    await first
    await second
    assert.deepEqual(
      fake.commits.map((c) => c.map((o) => o.offset)),
      [[5], [8]],
    )
    assert.deepEqual(calls, [
      'flush 0_0',
      'flushed 0_0',
      'commit a[0]@5',
      'committed a[0]@5',
      'checkpoint 0_0 a[0]@5',
      'flush 0_0',
      'flushed 0_0',
      'commit a[0]@8',
      'committed a[0]@8',
      'checkpoint 0_0 a[0]@8',
    ])
    assert.equal(committer.count, 2)
  })

  test('reads the tasks when its turn comes, not when the commit was asked for', async () => {
    const calls: Calls = []
    const fake = fakeConsumer(calls)
    const committer = new Committer(new AtLeastOnce(fake.consumer))
    const t0 = fakeTask('0_0', 0, calls)
    const t1 = fakeTask('0_1', 1, calls)
    t0.set('a', 1)
    t1.set('a', 2)
    const slow = gate()
    fake.answer = () => slow.promise
    let tasks: StreamTask[] = [t0.task]
    const first = committer.commit(() => tasks)
    await until('the first commit sent', () => fake.commits.length === 1)
    fake.answer = () => Promise.resolve()
    const second = committer.commit(() => tasks)
    tasks = [t1.task]
    slow.open()
    await Promise.all([first, second])
    assert.deepEqual(fake.commits, [
      [{ topic: 'a', partition: 0, offset: 1 }],
      [{ topic: 'a', partition: 1, offset: 2 }],
    ])
  })

  test('a failed commit calls onFailure with the error and rejects with it; later commits still run', async () => {
    const calls: Calls = []
    const fake = fakeConsumer(calls)
    const protocol = new AtLeastOnce(fake.consumer)
    const onFailure = mock.method(protocol, 'onFailure')
    const postCommit = mock.method(protocol, 'postCommit')
    const committer = new Committer(protocol)
    const t0 = fakeTask('0_0', 0, calls)
    t0.set('a', 1)
    const error = new Error('REBALANCE_IN_PROGRESS')
    fake.answer = () => Promise.reject(error)
    await assert.rejects(
      committer.commit(() => [t0.task]),
      (e) => e === error,
    )
    assert.equal(onFailure.mock.callCount(), 1)
    const [prepared, given] = onFailure.mock.calls[0]!.arguments as unknown as [PreparedCommit, unknown]
    assert.equal(given, error)
    assert.deepEqual(prepared.offsets, [{ topic: 'a', partition: 0, offset: 1 }])
    assert.equal(postCommit.mock.callCount(), 0, 'nothing is checkpointed after a failed commit')
    assert.equal(committer.count, 0)
    fake.answer = () => Promise.resolve()
    await committer.commit(() => [t0.task])
    assert.equal(postCommit.mock.callCount(), 1)
    assert.equal(committer.count, 1)
  })

  test('rejects with the commit error even when onFailure itself has work to do first', async () => {
    const order: string[] = []
    const undo = gate()
    const protocol: CommitProtocol = {
      guarantee: 'exactly_once',
      prepare: (tasks) => Promise.resolve({ tasks, offsets: [] }),
      commit: () => Promise.reject(new Error('FENCED')),
      postCommit: () => void order.push('post'),
      onFailure: async () => {
        order.push('undo started')
        await undo.promise
        order.push('undo done')
      },
      committed: new Map(),
      forget: () => undefined,
    }
    const committer = new Committer(protocol)
    let rejected: unknown
    const done = committer.commit(() => [{} as StreamTask]).catch((e: unknown) => (rejected = e))
    await until('onFailure started', () => order.length === 1)
    await turns()
    assert.equal(rejected, undefined, 'not rejected before onFailure finished')
    undo.open()
    await done
    assert.match(String(rejected), /FENCED/)
    assert.deepEqual(order, ['undo started', 'undo done'])
  })

  test('does nothing when there are no tasks', async () => {
    const calls: Calls = []
    const fake = fakeConsumer(calls)
    const protocol = new AtLeastOnce(fake.consumer)
    const prepare = mock.method(protocol, 'prepare')
    const committer = new Committer(protocol)
    await committer.commit(() => [])
    assert.equal(prepare.mock.callCount(), 0)
    assert.deepEqual(calls, [])
  })
})
