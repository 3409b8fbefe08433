import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compareTaskIds, isTaskId, parseTaskId, taskId } from '../../../src/runtime/assignment/task-ids.js'

test('a task id is the sub-topology and the partition joined by an underscore', () => {
  assert.equal(taskId(0, 3), '0_3')
  assert.deepEqual(parseTaskId('12_7'), { subtopology: 12, partition: 7 })
})

test('malformed task ids are refused with the id in the message', () => {
  for (const bad of ['', '0', '0_', '_1', '01_1', '0_01', '-1_0', '0_1 ', 'a_b', '0_1_2'])
    assert.equal(isTaskId(bad), false, bad)
  assert.equal(isTaskId(7), false)
  assert.throws(() => parseTaskId('0-3'), /"0-3" is not a task id/)
})

test('task ids sort by sub-topology, then partition, as numbers', () => {
  assert.deepEqual(['1_0', '0_10', '0_2', '10_0', '2_1'].sort(compareTaskIds), [
    '0_2',
    '0_10',
    '1_0',
    '2_1',
    '10_0',
  ])
})
