import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { checkTransition, type TaskState } from '../../../src/runtime/task/lifecycle.js'

const STATES: TaskState[] = ['created', 'restoring', 'running', 'suspended', 'closed']

const ALLOWED = new Set([
  'created->restoring',
  'created->closed',
  'restoring->running',
  'restoring->suspended',
  'restoring->closed',
  'running->suspended',
  'running->closed',
  'suspended->closed',
])

describe('task lifecycle', () => {
  test('allows exactly the transitions of the lifecycle diagram', () => {
    for (const from of STATES) {
      for (const to of STATES) {
        const allowed = ALLOWED.has(`${from}->${to}`)
        if (allowed) assert.doesNotThrow(() => checkTransition('0_0', from, to), `${from} -> ${to}`)
        else
          assert.throws(
            () => checkTransition('0_0', from, to),
            { code: 'INVALID_ARGUMENT' },
            `${from} -> ${to}`,
          )
      }
    }
  })

  test('a suspended task never goes back to running, and a closed one goes nowhere', () => {
    assert.throws(() => checkTransition('1_3', 'suspended', 'running'), {
      message: 'task 1_3 cannot go from suspended to running',
    })
    for (const to of STATES)
      assert.throws(() => checkTransition('1_3', 'closed', to), /cannot go from closed/)
  })

  test('a created task cannot skip restoration and start running', () => {
    assert.throws(
      () => checkTransition('2_0', 'created', 'running'),
      /task 2_0 cannot go from created to running/,
    )
  })
})
