import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PendingWindows } from '../../src/windows/pending.js'

test('windows are taken once, when stream time reaches their closing time, oldest first', () => {
  const pending = new PendingWindows<string>()
  pending.add(3_000, 'b@2000', 'b@2000')
  pending.add(2_000, 'a@1000', 'a@1000')
  pending.add(2_000, 'b@1000', 'b@1000')
  pending.add(5_000, 'a@4000', 'a@4000')
  pending.add(2_000, 'a@1000', 'a@1000') // an update of an open window: still one
  assert.equal(pending.size, 4)
  assert.deepEqual(pending.take(1_999), [])
  assert.deepEqual(pending.take(2_000), ['a@1000', 'b@1000'])
  assert.deepEqual(pending.take(2_500), [])
  assert.deepEqual(pending.take(4_999), ['b@2000'])
  assert.equal(pending.next(), 5_000)
  assert.deepEqual(pending.takeAll(), ['a@4000'])
  assert.equal(pending.size, 0)
  assert.equal(pending.next(), undefined)
})

test('a removed window (a merged session) is never taken, and its empty time is skipped', () => {
  const pending = new PendingWindows<string>()
  pending.add(10, 's1', 's1')
  pending.add(20, 's2', 's2')
  pending.remove(10, 's1')
  pending.remove(10, 'unknown')
  assert.equal(pending.size, 1)
  assert.equal(pending.next(), 20)
  assert.deepEqual(pending.take(100), ['s2'])
})

test('many closing times in random order come out sorted', () => {
  const pending = new PendingWindows<number>()
  const times = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1000)
  for (const t of times) pending.add(t, String(t), t)
  assert.deepEqual(
    pending.takeAll(),
    [...new Set(times)].sort((a, b) => a - b),
  )
})
