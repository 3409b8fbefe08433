import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { TributaryError } from '../../../src/errors.js'
import { injectFault as fromIndex } from '../../../src/transport/index.js'
import { injectFault, resetMemoryBroker } from '../../../src/transport/memory/transport.js'
import type { Admin, Producer } from '../../../src/transport/types.js'
import { fixture, pollUntil, text, values, type Fixture } from './helpers.js'

const failed = (c: string, canRetry: boolean, message?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof TributaryError, String(error))
  assert.equal(error.code, c, error.message)
  assert.equal(error.canRetry, canRetry, error.message)
  if (message) assert.match(error.message, message)
  return true
}

describe('memory:// fault injection', () => {
  let f: Fixture
  let admin: Admin
  let producer: Producer

  beforeEach(async () => {
    f = fixture()
    admin = f.transport.admin()
    producer = f.transport.producer()
    await admin.createTopics([{ topic: 't', partitions: 1 }])
  })
  afterEach(() => f.close())

  const record = (value: string) => ({ topic: 't', value: text(value) })

  test('a transient produce error fails one send with canRetry, appends nothing, and the producer goes on', async () => {
    injectFault(f.name, { api: 'produce', code: 'NOT_LEADER_OR_FOLLOWER' })
    await assert.rejects(
      producer.send([record('lost'), record('lost too')]),
      failed('KAFKA', true, /produce to t.*NOT_LEADER_OR_FOLLOWER \(injected fault\)/),
    )
    await producer.send([record('kept')])
    const [end] = await admin.listOffsets('t', 'latest')
    assert.equal(end?.offset, 1, 'the failed batch appended nothing')
  })

  test('a transient fetch error fails one poll with canRetry; the next poll returns the records, none lost', async () => {
    await producer.send([record('a'), record('b')])
    const consumer = f.transport.consumer()
    await consumer.assign([{ topic: 't', partition: 0, from: 'earliest' }])
    injectFault(`memory://${f.name}`, { api: 'fetch', code: 'REQUEST_TIMED_OUT', times: 2 })
    await assert.rejects(consumer.poll(), failed('TIMEOUT', true))
    await assert.rejects(consumer.poll(), failed('TIMEOUT', true))
    assert.deepEqual(values(await pollUntil(consumer, 2)), ['a', 'b'])
  })

  test('a fault hits only the client it names, and its remover disarms it', async () => {
    const remove = injectFault(f.name, {
      api: 'produce',
      code: 'TIMEOUT',
      times: Infinity,
      clientId: 'flaky',
    })
    const flaky = f.transport.producer({ clientId: 'flaky' })
    await producer.send([record('other client')])
    await assert.rejects(flaky.send([record('x')]), failed('TIMEOUT', false))
    await assert.rejects(flaky.send([record('x')]), failed('TIMEOUT', false))
    remove()
    await flaky.send([record('x')])
  })

  test('group and transaction calls fail as injected: join, commit, sendOffsets, endTxn', async () => {
    await producer.send([record('in')])
    const consumer = f.transport.consumer({ groupId: 'g', offsetReset: 'earliest' })
    injectFault(f.name, { api: 'join', code: 'COORDINATOR_NOT_AVAILABLE' })
    await assert.rejects(consumer.subscribe(['t']), failed('KAFKA', true, /join group g/))
    await consumer.subscribe(['t'])
    await pollUntil(consumer, 1)
    injectFault(f.name, { api: 'commit', code: 'REBALANCE_IN_PROGRESS' })
    await assert.rejects(
      consumer.commit([{ topic: 't', partition: 0, offset: 1 }]),
      failed('REBALANCE', false),
    )
    assert.deepEqual(await consumer.committed([{ topic: 't', partition: 0 }]), [])

    const transactional = f.transport.producer({ transactionalId: 'tx' })
    const tx = await transactional.beginTransaction()
    await tx.send([record('out')])
    injectFault(f.name, { api: 'sendOffsets', code: 'CONCURRENT_TRANSACTIONS' })
    const offsets = [{ topic: 't', partition: 0, offset: 1 }]
    await assert.rejects(tx.sendOffsets(consumer, offsets), failed('KAFKA', true))
    await tx.sendOffsets(consumer, offsets)
    injectFault(f.name, { api: 'endTxn', code: 'REQUEST_TIMED_OUT', canRetry: false })
    await assert.rejects(tx.commit(), failed('TIMEOUT', false, /commit the transaction of tx/))
    await tx.commit()
    assert.deepEqual(await consumer.committed([{ topic: 't', partition: 0 }]), offsets)
  })

  test('listOffsets fails as injected, and a broker reset forgets its faults', async () => {
    fromIndex(f.name, { api: 'listOffsets', code: 'LEADER_NOT_AVAILABLE', times: Infinity })
    await assert.rejects(admin.listOffsets('t', 'latest'), failed('KAFKA', true, /list offsets of topic t/))
    resetMemoryBroker(f.name)
    const again = f.reopen()
    await again.admin().createTopics([{ topic: 't' }])
    assert.deepEqual(await again.admin().listOffsets('t', 'latest'), [
      { topic: 't', partition: 0, offset: 0 },
    ])
  })

  test('a fault spec is checked: the api, the error, how many times', () => {
    assert.throws(() => injectFault(f.name, { api: 'nope' as never, code: 'TIMEOUT' }), /unknown api nope/)
    assert.throws(
      () => injectFault(f.name, { api: 'fetch', code: 'NOT_AN_ERROR' as never }),
      /unknown error NOT_AN_ERROR/,
    )
    assert.throws(() => injectFault(f.name, { api: 'fetch', code: 'TIMEOUT', times: 0 }), /times/)
  })
})
