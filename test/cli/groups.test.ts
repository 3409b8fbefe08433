import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { describeGroup, groupLag, listGroups } from '../../src/cli/commands/groups.js'
import { TributaryError } from '../../src/errors.js'
import { Collector, memoryTransport } from './helpers.js'

describe('tributary groups on memory://', () => {
  test('describe shows committed offset, log end and lag per partition, with "-" where nothing was committed', async () => {
    const transport = memoryTransport()
    try {
      const admin = transport.admin()
      await admin.createTopics([{ topic: 't', partitions: 3 }])
      const producer = transport.producer()
      await producer.send(
        Array.from({ length: 9 }, (_, i) => ({ topic: 't', partition: i % 3, value: Buffer.from(`${i}`) })),
      )
      const consumer = transport.consumer({ groupId: 'g' })
      await consumer.assign([
        { topic: 't', partition: 0, from: 'earliest' },
        { topic: 't', partition: 1, from: 'earliest' },
      ])
      await consumer.commit([
        { topic: 't', partition: 0, offset: 3 },
        { topic: 't', partition: 1, offset: 1 },
      ])
      await consumer.close()

      const lag = await groupLag(admin, 'g')
      assert.deepEqual(
        lag.partitions.map((p) => [p.partition, p.committed, p.logEnd, p.lag]),
        [
          [0, 3, 3, 0],
          [1, 1, 3, 2],
          [2, undefined, 3, undefined],
        ],
      )
      assert.equal(lag.totalLag, 2)

      const out = new Collector()
      await describeGroup(admin, { group: 'g' }, out)
      const text = out.text()
      assert.match(text, /^Group: g {2}State: \w+ {2}Members: 0\n/)
      assert.match(text, /TOPIC {2}PARTITION {2}COMMITTED {2}LOG-END {2}LAG {2}MEMBER/)
      assert.match(text, /\nt {6}2 {10}- {10}3 {8}- {4}-/)
      assert.match(text, /Total lag: 2 \(1 partition without a committed offset not counted\)\n$/)

      const listed = new Collector()
      await listGroups(admin, listed)
      assert.match(listed.text(), /^GROUP {2}STATE\ng {6}\w+\n$/)
      await producer.close()
    } finally {
      await transport.close()
    }
  })

  test('describing a group that does not exist says so', async () => {
    const transport = memoryTransport()
    try {
      await assert.rejects(
        describeGroup(transport.admin(), { group: 'nobody' }, new Collector()),
        (error: unknown) =>
          error instanceof TributaryError && error.code === 'UNKNOWN_GROUP' && /nobody/.test(error.message),
      )
    } finally {
      await transport.close()
    }
  })
})
