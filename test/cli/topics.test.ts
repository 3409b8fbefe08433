import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  alterTopic,
  createTopic,
  deleteTopics,
  describeTopics,
  listTopics,
} from '../../src/cli/commands/topics.js'
import { TributaryError } from '../../src/errors.js'
import { Collector, memoryTransport } from './helpers.js'

function code(expected: string, message: RegExp) {
  return (error: unknown) =>
    error instanceof TributaryError && error.code === expected && message.test(error.message)
}

describe('tributary topics on memory://', () => {
  test('create, list, describe and delete a topic', async () => {
    const transport = memoryTransport()
    try {
      const admin = transport.admin()
      const out = new Collector()
      await createTopic(admin, { topic: 'rides', partitions: 3, configs: ['retention.ms=3600000'] }, out)
      assert.match(out.text(), /Created topic "rides" \(3 partitions, replication factor 1\)/)

      const listed = new Collector()
      await listTopics(admin, {}, listed)
      assert.deepEqual(listed.lines(), ['rides'])

      const described = new Collector()
      await describeTopics(admin, { topics: ['rides'] }, described)
      const text = described.text()
      assert.match(text, /Topic: rides {2}Partitions: 3 {2}Replication factor: 1/)
      assert.match(text, /Configs: retention\.ms=3600000\n/)
      assert.match(text, /PARTITION {2}LEADER {2}REPLICAS {2}ISR\n0 /)

      await deleteTopics(admin, { topics: ['rides'] }, new Collector())
      const after = new Collector()
      await listTopics(admin, {}, after)
      assert.deepEqual(after.lines(), [])
    } finally {
      await transport.close()
    }
  })

  test('creating an existing topic fails unless --if-not-exists', async () => {
    const transport = memoryTransport()
    try {
      const admin = transport.admin()
      await createTopic(admin, { topic: 't' }, new Collector())
      await assert.rejects(createTopic(admin, { topic: 't' }, new Collector()), code('TOPIC_EXISTS', /t/))
      const out = new Collector()
      await createTopic(admin, { topic: 't', ifNotExists: true }, out)
      assert.match(out.text(), /already exists/)
    } finally {
      await transport.close()
    }
  })

  test('an unknown config name and a config without "=" are named in the error', async () => {
    const transport = memoryTransport()
    try {
      const admin = transport.admin()
      await assert.rejects(
        createTopic(admin, { topic: 'a', configs: ['retention.msx=1'] }, new Collector()),
        code('INVALID_CONFIG', /retention\.msx/),
      )
      await assert.rejects(
        createTopic(admin, { topic: 'b', configs: ['retention.ms'] }, new Collector()),
        code('INVALID_ARGUMENT', /--config "retention\.ms" has no "="/),
      )
      assert.deepEqual(await admin.listTopics(), [])
    } finally {
      await transport.close()
    }
  })

  test('describing an unknown topic names it', async () => {
    const transport = memoryTransport()
    try {
      await assert.rejects(
        describeTopics(transport.admin(), { topics: ['nope'] }, new Collector()),
        code('UNKNOWN_TOPIC', /nope/),
      )
    } finally {
      await transport.close()
    }
  })

  test('alter grows partitions, refuses to shrink, and sets and removes configs', async () => {
    const transport = memoryTransport()
    try {
      const admin = transport.admin()
      await createTopic(
        admin,
        { topic: 't', partitions: 3, configs: ['cleanup.policy=compact'] },
        new Collector(),
      )
      const out = new Collector()
      await alterTopic(
        admin,
        { topic: 't', partitions: 5, configs: ['retention.ms=1000'], deleteConfigs: ['cleanup.policy'] },
        out,
      )
      assert.match(out.text(), /now has 5 partitions \(was 3\)/)
      assert.equal((await admin.describeTopics(['t']))[0]?.partitions.length, 5)
      const configs = new Map((await admin.describeConfigs('t')).map((c) => [c.name, c]))
      assert.equal(configs.get('retention.ms')?.value, '1000')
      assert.equal(configs.get('cleanup.policy')?.isDefault, true)

      await assert.rejects(
        alterTopic(admin, { topic: 't', partitions: 2 }, new Collector()),
        code(
          'INVALID_PARTITIONS',
          /has 5 partitions.*never remove them: --partitions must be more than 5, got 2/,
        ),
      )
      await assert.rejects(
        alterTopic(admin, { topic: 't' }, new Collector()),
        code('INVALID_ARGUMENT', /Nothing to alter/),
      )
      await assert.rejects(
        alterTopic(admin, { topic: 't', configs: ['no.such.config=1'] }, new Collector()),
        code('INVALID_CONFIG', /no\.such\.config/),
      )
    } finally {
      await transport.close()
    }
  })
})
