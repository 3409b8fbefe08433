import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { TributaryError } from '../../src/errors.js'
import { classify } from '../../src/runtime/faults.js'

describe('classify', () => {
  test('a stale generation (REBALANCE) or a fenced member (FENCED) means the tasks migrated', () => {
    assert.equal(
      classify(new TributaryError('REBALANCE', 'commit refused: the group rebalanced')),
      'migrated',
    )
    assert.equal(classify(new TributaryError('FENCED', 'a newer member took over')), 'migrated')
  })

  test('migrated wins over retriable: a fenced member must not retry its way back in', () => {
    assert.equal(classify(new TributaryError('FENCED', 'fenced', { canRetry: true })), 'migrated')
    assert.equal(classify(new TributaryError('REBALANCE', 'rebalance', { canRetry: true })), 'migrated')
  })

  test('an unreachable broker, a timeout and any retriable error are transient', () => {
    assert.equal(classify(new TributaryError('BROKER_UNREACHABLE', 'no broker at 127.0.0.1:1')), 'transient')
    assert.equal(classify(new TributaryError('TIMEOUT', 'fetch timed out')), 'transient')
    assert.equal(
      classify(new TributaryError('KAFKA', 'NOT_LEADER_OR_FOLLOWER', { canRetry: true })),
      'transient',
    )
  })

  test('offsets out of range mean the task is corrupted', () => {
    assert.equal(
      classify(new TributaryError('KAFKA', 'fetch failed: OFFSET_OUT_OF_RANGE for t[0]@42', { offset: 42 })),
      'corrupted',
    )
  })

  test('other Tributary errors are fatal', () => {
    assert.equal(classify(new TributaryError('AUTHENTICATION_FAILED', 'SASL refused')), 'fatal')
    assert.equal(classify(new TributaryError('UNKNOWN_TOPIC', 'no topic orders')), 'fatal')
    assert.equal(classify(new TributaryError('KAFKA', 'TOPIC_AUTHORIZATION_FAILED')), 'fatal')
    assert.equal(classify(new TributaryError('INVALID_ARGUMENT', 'OFFSET_OUT_OF_RANGE')), 'fatal')
  })

  test('errors that are not Tributary errors are fatal, whatever they say', () => {
    assert.equal(classify(new Error('OFFSET_OUT_OF_RANGE')), 'fatal')
    assert.equal(classify(Object.assign(new Error('x'), { code: 'REBALANCE', canRetry: true })), 'fatal')
    assert.equal(classify('BROKER_UNREACHABLE'), 'fatal')
    assert.equal(classify(undefined), 'fatal')
  })
})
