import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { TributaryError } from '../../../src/errors.js'
import { injectFault } from '../../../src/transport/memory/transport.js'
import type { Admin, Consumer, ConsumerOptions, TopicPartition } from '../../../src/transport/types.js'
import { fixture, type Fixture } from './helpers.js'

const key = (tp: TopicPartition) => `${tp.topic}[${tp.partition}]`
const code = (c: string, message?: RegExp) => (error: unknown) =>
  error instanceof TributaryError && error.code === c && (!message || message.test(error.message))

describe('memory:// static membership and lost memberships', () => {
  let f: Fixture
  let admin: Admin

  beforeEach(async () => {
    f = fixture()
    admin = f.transport.admin()
    await admin.createTopics([{ topic: 't', partitions: 4 }])
  })
  afterEach(() => f.close())

  /** A member whose callbacks are logged as `<event> <partitions>`. */
  async function member(options: ConsumerOptions, events: string[]): Promise<Consumer> {
    const consumer = f.transport.consumer({ groupId: 'g', ...options })
    const log = (what: string) => (tps: TopicPartition[]) =>
      void events.push(`${what} ${tps.map(key).join(',')}`)
    await consumer.subscribe(['t'], {
      onGeneration: (info) => void events.push(`generation ${info.generation}`),
      onAssigned: log('assigned'),
      onRevoked: log('revoked'),
      onLost: log('lost'),
    })
    await consumer.poll({ timeoutMs: 0 })
    return consumer
  }

  test('a static member that comes back takes over its old assignment in the same generation; the old one is fenced', async () => {
    const otherEvents: string[] = []
    const other = await member({ clientId: 'other' }, otherEvents)
    const oldEvents: string[] = []
    const old = await member({ clientId: 'old', groupInstanceId: 'worker-1' }, oldEvents)
    await other.poll({ timeoutMs: 0 })
    await old.poll({ timeoutMs: 0 })
    const mine = old.assignment().map(key)
    assert.equal(mine.length, 2)
    const generation = oldEvents.filter((e) => e.startsWith('generation')).at(-1)

    const freshEvents: string[] = []
    const fresh = await member({ clientId: 'fresh', groupInstanceId: 'worker-1' }, freshEvents)
    assert.deepEqual(
      freshEvents,
      [generation, `assigned ${mine.join(',')}`],
      'same generation, same partitions',
    )
    await other.poll({ timeoutMs: 0 })
    assert.equal(other.assignment().length, 2, 'nothing moved for the other member')
    assert.ok(!otherEvents.slice(-1)[0]!.startsWith('revoked'))

    await assert.rejects(
      old.commit([{ topic: 't', partition: 0, offset: 0 }]),
      code('REBALANCE', /groupInstanceId "worker-1"/),
    )
    await assert.rejects(old.poll({ timeoutMs: 0 }), code('FENCED', /worker-1.*FENCED_INSTANCE_ID/))
    assert.deepEqual(oldEvents.slice(-1), [`lost ${mine.join(',')}`])
    assert.deepEqual(old.assignment(), [])
    await assert.rejects(old.poll({ timeoutMs: 0 }), code('FENCED'), 'fatal: it does not rejoin')
    const members = (await admin.describeGroup('g')).members.map((m) => m.clientId).sort()
    assert.deepEqual(members, ['fresh', 'other'])
    await old.close()
    await fresh.commit([{ ...fresh.assignment()[0]!, offset: 1 }])
  })

  test('a static member that closes leaves the group at once', async () => {
    const a = await member({ clientId: 'a', groupInstanceId: 'worker-a' }, [])
    const b = await member({ clientId: 'b' }, [])
    await a.poll({ timeoutMs: 0 })
    await b.poll({ timeoutMs: 0 })
    assert.equal(b.assignment().length, 2)
    await a.close()
    await b.poll({ timeoutMs: 0 })
    assert.equal(b.assignment().length, 4)
  })

  test('an evicted member is told onLost, its commits there are refused, and it rejoins under a new id', async () => {
    const events: string[] = []
    let refused: unknown
    const consumer = f.transport.consumer({
      groupId: 'g',
      clientId: 'a',
      sessionTimeoutMs: 1000,
      heartbeatIntervalMs: 10,
    })
    await consumer.subscribe(['t'], {
      onAssigned: (tps) => void events.push(`assigned ${tps.length}`),
      onRevoked: (tps) => void events.push(`revoked ${tps.length}`),
      onLost: async (tps) => {
        events.push(`lost ${tps.length}`)
        refused = await consumer.commit([{ topic: 't', partition: 0, offset: 1 }]).catch((e: unknown) => e)
      },
    })
    await consumer.poll({ timeoutMs: 0 })
    const [before] = (await admin.describeGroup('g')).members
    const heal = injectFault(f.name, {
      api: 'heartbeat',
      code: 'NETWORK_EXCEPTION',
      times: Infinity,
      clientId: 'a',
    })
    while ((await admin.describeGroup('g')).members.length > 0) await new Promise((r) => setTimeout(r, 20))
    heal()
    await consumer.poll({ timeoutMs: 0 })
    assert.deepEqual(events, ['assigned 4', 'lost 4', 'assigned 4'])
    assert.ok(
      code('REBALANCE', /session timed out \(1000 ms without a heartbeat\)/)(refused),
      String(refused),
    )
    const [after] = (await admin.describeGroup('g')).members
    assert.notEqual(after?.memberId, before?.memberId)
  })

  test('closing a member whose membership was lost runs onLost, not onRevoked', async () => {
    const events: string[] = []
    const a = await member({ clientId: 'a', groupInstanceId: 'worker-1' }, events)
    await member({ clientId: 'b', groupInstanceId: 'worker-1' }, [])
    await a.close()
    assert.deepEqual(events.slice(-1), ['lost t[0],t[1],t[2],t[3]'])
  })

  test('static membership options are checked', () => {
    assert.throws(
      () => f.transport.consumer({ groupInstanceId: 'x' }),
      code('INVALID_ARGUMENT', /needs a groupId/),
    )
    assert.throws(
      () => f.transport.consumer({ groupId: 'g', groupInstanceId: 'a b' }),
      code('INVALID_ARGUMENT', /groupInstanceId/),
    )
    assert.throws(() => f.transport.consumer({ groupId: 'g', groupInstanceId: '' }), code('INVALID_ARGUMENT'))
  })
})
