/** `tributary groups reset-offsets | delete-offsets | delete` as a user runs them against Apache Kafka. */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { openTransport } from '../../src/transport/index.js'
import type { Transport } from '../../src/transport/types.js'
import { testBroker } from '../helpers/broker.js'
import { waitUntil } from '../helpers/wait.js'
import { runCli, startCli, uniqueTopic } from './helpers.js'

const broker = testBroker()

/** The group's committed offsets as `partition:offset` strings, sorted. */
async function committed(transport: Transport, group: string): Promise<string[]> {
  return (await transport.admin().listGroupOffsets(group)).map((o) => `${o.partition}:${o.offset}`)
}

describe(`tributary groups against Apache Kafka at ${broker}`, () => {
  let transport: Transport
  const cli = (...args: string[]) => runCli(['--broker', broker, ...args])

  before(() => {
    transport = openTransport(broker)
  })
  after(async () => {
    await transport.close()
  })

  test('reset-offsets prints a plan, commits it only with --execute, and is refused while the group has a live member', async () => {
    const topic = uniqueTopic('reset')
    const group = `reset-${randomUUID().slice(0, 8)}`
    await transport.admin().createTopics([{ topic, partitions: 2 }])
    const producer = transport.producer()
    await producer.send(
      Array.from({ length: 20 }, (_, i) => ({ topic, partition: i % 2, value: Buffer.from(`v${i}`) })),
    )
    await producer.close()
    const read = await cli('consume', topic, '--group', group, '--from', 'beginning', '--count', '20')
    assert.equal(read.code, 0, read.stderr)
    assert.deepEqual(await committed(transport, group), ['0:10', '1:10'])

    const dry = await cli('groups', 'reset-offsets', group, '--topic', topic, '--shift-by', '-3')
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /dry run: nothing was changed; add --execute/)
    assert.match(dry.stdout, new RegExp(`${topic} +0 +10 +7 +0 +10 +-\\n`))
    assert.deepEqual(await committed(transport, group), ['0:10', '1:10'], 'a dry run changes nothing')

    const shifted = await cli(
      'groups',
      'reset-offsets',
      group,
      '--topic',
      `${topic}:1`,
      '--shift-by',
      '-3',
      '--execute',
    )
    assert.equal(shifted.code, 0, shifted.stderr)
    assert.match(shifted.stdout, /Committed new offsets for 1 partition of group/)
    assert.deepEqual(await committed(transport, group), ['0:10', '1:7'])

    const clamped = await cli(
      'groups',
      'reset-offsets',
      group,
      '--topic',
      topic,
      '--to-offset',
      '15',
      '--execute',
    )
    assert.equal(clamped.code, 0, clamped.stderr)
    assert.match(clamped.stdout, /15 is past the log end/)
    assert.deepEqual(await committed(transport, group), ['0:10', '1:10'])

    const earliest = await cli('groups', 'reset-offsets', group, '--all-topics', '--to-earliest', '--execute')
    assert.equal(earliest.code, 0, earliest.stderr)
    assert.deepEqual(await committed(transport, group), ['0:0', '1:0'])

    // A consumer of the group is running (it reads the 20 records again and commits them): the plan
    // still prints, but no offset may be committed under it.
    const live = startCli(['--broker', broker, 'consume', topic, '--group', group, '--from', 'end'])
    try {
      await waitUntil(
        'the consumer to join',
        async () => (await transport.admin().describeGroup(group)).members.length === 1,
        60_000,
      )
      const members = await cli('groups', 'describe', group, '--members', '--state')
      assert.equal(members.code, 0, members.stderr)
      assert.match(members.stdout, new RegExp(`${group} +Stable +\\S+ +1\\n`))
      assert.match(
        members.stdout,
        new RegExp(`MEMBER +CLIENT-ID +HOST +PARTITIONS +ASSIGNMENT\\n\\S+ +\\S+ +\\S+ +2 +${topic}:0,1\\n`),
      )

      const planned = await cli('groups', 'reset-offsets', group, '--topic', topic, '--to-latest')
      assert.equal(planned.code, 0, planned.stderr)
      assert.match(
        planned.stdout,
        /has 1 live member \(state Stable\); --execute is refused until its workers stop/,
      )

      const refused = await cli(
        'groups',
        'reset-offsets',
        group,
        '--topic',
        topic,
        '--to-latest',
        '--execute',
      )
      assert.equal(refused.code, 1)
      assert.match(
        refused.stderr,
        new RegExp(
          `error: Could not reset the offsets of group "${group}": group "${group}" has 1 live member`,
        ),
      )
      const deleteRefused = await cli('groups', 'delete-offsets', group, '--topic', topic)
      assert.equal(deleteRefused.code, 1)
      assert.match(
        deleteRefused.stderr,
        new RegExp(`live members subscribe to "${topic}".*stop its workers first`),
      )
      const dropRefused = await cli('groups', 'delete', group)
      assert.equal(dropRefused.code, 1)
      assert.match(dropRefused.stderr, /has 1 live member.*stop its workers first/)
    } finally {
      live.child.kill('SIGINT')
      await live.done
    }

    await waitUntil(
      'the consumer to leave',
      async () => (await transport.admin().describeGroup(group)).members.length === 0,
      60_000,
    )
    const applied = await cli(
      'groups',
      'reset-offsets',
      group,
      '--topic',
      topic,
      '--to-earliest',
      '--execute',
    )
    assert.equal(applied.code, 0, applied.stderr)
    assert.deepEqual(await committed(transport, group), ['0:0', '1:0'])

    const forgot = await cli('groups', 'delete-offsets', group, '--topic', `${topic}:0`)
    assert.equal(forgot.code, 0, forgot.stderr)
    assert.match(forgot.stdout, new RegExp(`for ${topic}:0\\.`))
    assert.deepEqual(await committed(transport, group), ['1:0'])

    const dropped = await cli('groups', 'delete', group)
    assert.equal(dropped.code, 0, dropped.stderr)
    assert.match(dropped.stdout, new RegExp(`Deleted group "${group}"`))
    assert.deepEqual(await committed(transport, group), [])
  })

  test('a time resets every partition to its first record at or after it', async () => {
    const topic = uniqueTopic('reset-time')
    const group = `reset-time-${randomUUID().slice(0, 8)}`
    await transport.admin().createTopics([{ topic, partitions: 1 }])
    const producer = transport.producer()
    const base = Date.parse('2024-05-01T12:00:00Z')
    await producer.send(
      Array.from({ length: 10 }, (_, i) => ({
        topic,
        timestamp: base + i * 60_000,
        value: Buffer.from(`${i}`),
      })),
    )
    await producer.close()
    const reset = await cli(
      'groups',
      'reset-offsets',
      group,
      '--topic',
      topic,
      '--to-datetime',
      '2024-05-01T12:04:30Z',
      '--execute',
    )
    assert.equal(reset.code, 0, reset.stderr)
    assert.deepEqual(await committed(transport, group), ['0:5'])
  })
})
