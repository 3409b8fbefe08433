/** kafka:// error mapping: unreachable brokers, SASL, and the broker's refusals as Tributary codes. */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { openTransport } from '../../../src/transport/index.js'
import type { Transport } from '../../../src/transport/types.js'
import { BROKER, createTopic, open, rejectsWith, uniqueTopic } from './helpers.js'

const LIMIT_MS = 15_000

async function within<T>(ms: number, work: () => Promise<T>): Promise<T> {
  const start = Date.now()
  const result = await work()
  assert.ok(Date.now() - start < ms, `took ${Date.now() - start} ms, more than ${ms} ms`)
  return result
}

describe('kafka:// with no broker answering', { concurrency: true }, () => {
  test('every kind of call fails with BROKER_UNREACHABLE within 15 s, naming the closed address', async () => {
    const transport = openTransport('kafka://127.0.0.1:1')
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['listTopics', () => transport.admin().listTopics()],
      ['createTopics', () => transport.admin().createTopics([{ topic: 'never' }])],
      ['send', () => transport.producer().send([{ topic: 'never', value: Buffer.from('x') }])],
      ['beginTransaction', () => transport.producer({ transactionalId: 'never' }).beginTransaction()],
      ['assign', () => transport.consumer().assign([{ topic: 'never', partition: 0 }])],
      ['subscribe', () => transport.consumer({ groupId: 'never' }).subscribe(['never'])],
      [
        'committed',
        () => transport.consumer({ groupId: 'never' }).committed([{ topic: 'never', partition: 0 }]),
      ],
    ]
    try {
      await within(LIMIT_MS, () =>
        Promise.all(
          calls.map(([, call]) =>
            rejectsWith(call(), 'BROKER_UNREACHABLE', /127\.0\.0\.1:1\b/, /no broker answered/),
          ),
        ),
      )
    } finally {
      await within(LIMIT_MS, () => transport.close())
    }
  })

  test('a host that accepts connections but never replies is reported within 15 s, not after the request timeout', async () => {
    const sockets = new Set<Socket>()
    const server: Server = createServer((socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const transport = openTransport(`kafka://127.0.0.1:${port}`)
    try {
      await within(LIMIT_MS, () =>
        rejectsWith(
          transport.admin().listTopics(),
          'BROKER_UNREACHABLE',
          new RegExp(`127\\.0\\.0\\.1:${port}`),
        ),
      )
    } finally {
      await transport.close()
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  test('with several bootstrap addresses, the message names each of them', async () => {
    const transport = openTransport('kafka://127.0.0.1:1,127.0.0.1:2')
    try {
      await within(LIMIT_MS, () =>
        rejectsWith(
          transport.admin().listTopics(),
          'BROKER_UNREACHABLE',
          /127\.0\.0\.1:1\b/,
          /127\.0\.0\.1:2\b/,
        ),
      )
    } finally {
      await transport.close()
    }
  })
})

describe('kafka:// maps the broker refusals to Tributary codes', () => {
  let transport: Transport
  before(() => {
    transport = open()
  })
  after(async () => {
    await transport.close()
  })

  test('producing to a missing topic is UNKNOWN_TOPIC naming it, at once (no auto-creation)', async () => {
    const missing = uniqueTopic('missing')
    const error = await within(2_000, () =>
      rejectsWith(
        transport.producer().send([{ topic: missing, value: null }]),
        'UNKNOWN_TOPIC',
        new RegExp(missing),
      ),
    )
    assert.equal(error.topic, missing)
    assert.ok(!(await transport.admin().listTopics()).includes(missing), 'the topic was not created')
  })

  test('a partition out of range is INVALID_PARTITIONS, also after the topic grew elsewhere', async () => {
    const topic = await createTopic(transport, 2)
    const producer = transport.producer()
    await producer.send([{ topic, partition: 1, value: Buffer.from('a') }])
    await rejectsWith(
      producer.send([{ topic, partition: 2, value: Buffer.from('b') }]),
      'INVALID_PARTITIONS',
      /2/,
      new RegExp(topic),
    )
    await rejectsWith(
      producer.send([{ topic, partition: -1, value: Buffer.from('b') }]),
      'INVALID_PARTITIONS',
    )
    await transport.admin().createPartitions(topic, 3)
    const [sent] = await producer.send([{ topic, partition: 2, value: Buffer.from('c') }])
    assert.deepEqual(sent, { topic, partition: 2, offset: 0 })
  })

  test('a replication factor the cluster cannot meet is INVALID_ARGUMENT', async () => {
    const topic = uniqueTopic('rf')
    await rejectsWith(
      transport.admin().createTopics([{ topic, replicationFactor: 99 }]),
      'INVALID_ARGUMENT',
      /99|replicat/i,
    )
  })

  test('a second producer with the same transactional id fences the first (FENCED)', async () => {
    const topic = await createTopic(transport)
    const transactionalId = `tx-${randomUUID()}`
    const first = transport.producer({ transactionalId })
    const second = transport.producer({ transactionalId })
    const zombie = await first.beginTransaction()
    await zombie.send([{ topic, value: Buffer.from('zombie') }])
    const winner = await second.beginTransaction()
    await winner.send([{ topic, value: Buffer.from('winner') }])
    await rejectsWith(
      (async () => {
        await zombie.send([{ topic, value: Buffer.from('late') }])
        await zombie.commit()
      })(),
      'FENCED',
    )
    await winner.commit()
    await rejectsWith(first.beginTransaction(), 'FENCED')
    await first.close()
    await second.close()
  })

  test('a transactional producer refuses sends outside a transaction, and a second open transaction', async () => {
    const topic = await createTopic(transport)
    const producer = transport.producer({ transactionalId: `tx-${randomUUID()}` })
    await rejectsWith(producer.send([{ topic, value: null }]), 'TRANSACTION', /beginTransaction/)
    const open = await producer.beginTransaction()
    await rejectsWith(producer.beginTransaction(), 'TRANSACTION', /already open/)
    await open.abort()
    await rejectsWith(open.commit(), 'TRANSACTION')
    await rejectsWith(transport.producer().beginTransaction(), 'TRANSACTION', /transactionalId/)
    await producer.close()
  })

  test('deleting an unknown group is UNKNOWN_GROUP; describing one too', async () => {
    const groupId = `g-${randomUUID()}`
    await rejectsWith(transport.admin().deleteGroup(groupId), 'UNKNOWN_GROUP', new RegExp(groupId))
    await rejectsWith(transport.admin().describeGroup(groupId), 'UNKNOWN_GROUP', new RegExp(groupId))
  })

  test('a closed client answers CLOSED', async () => {
    const producer = transport.producer()
    await producer.close()
    await rejectsWith(producer.send([{ topic: 'x', value: null }]), 'CLOSED')
    const consumer = transport.consumer()
    await consumer.close()
    await rejectsWith(consumer.poll(), 'CLOSED')
  })
})

describe('kafka:// option checks', () => {
  test('invalid producer and consumer options are refused at creation', () => {
    const transport = openTransport(BROKER)
    assert.throws(() => transport.producer({ acks: 1, idempotent: true }), { code: 'INVALID_ARGUMENT' })
    assert.throws(() => transport.producer({ transactionalId: 'x', idempotent: false }), {
      code: 'INVALID_ARGUMENT',
    })
    assert.throws(() => transport.consumer({ heartbeatIntervalMs: 5_000, sessionTimeoutMs: 1_000 }), {
      code: 'INVALID_ARGUMENT',
    })
    assert.throws(() => openTransport(BROKER, { connectTimeoutMs: -1 }), { code: 'INVALID_ARGUMENT' })
    return transport.close()
  })
})
