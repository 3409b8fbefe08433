/**
 * The transport contract: one behaviour suite, run unchanged against `memory://` and a real Kafka
 * broker (contract.memory.test.ts, contract.kafka.test.ts). What passes here holds on both.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { TributaryError } from '../../src/errors.js'
import { partitionForKey } from '../../src/transport/partitioner.js'
import type { ConsumedRecord, Transport } from '../../src/transport/types.js'
import { flowContract } from './contract-flow.js'
import { groupContract, type ContractContext } from './contract-groups.js'
import { pollUntil, rangeOf, tpKey } from './helpers.js'

export interface ContractTarget {
  /** Shown in every test title, e.g. "memory://" or "kafka:// (Apache Kafka at 127.0.0.1:19092)". */
  label: string
  open(): Transport
  /** Short group timings for fast rebalances in tests. */
  sessionTimeoutMs: number
}

export function transportContract(target: ContractTarget): void {
  describe(`transport contract on ${target.label}`, () => {
    let transport: Transport
    const topicName = (name: string): string => `contract-${name}-${randomUUID().slice(0, 8)}`
    const groupOptions = { sessionTimeoutMs: target.sessionTimeoutMs, heartbeatIntervalMs: 500 }

    before(() => {
      transport = target.open()
    })
    after(async () => {
      await transport.close()
    })

    async function createTopic(
      name: string,
      partitions: number,
      configs?: Record<string, string>,
    ): Promise<string> {
      const topic = topicName(name)
      await transport.admin().createTopics([{ topic, partitions, ...(configs ? { configs } : {}) }])
      return topic
    }

    test('keys, headers (in order, repeated keys included) and timestamps survive the round trip', async () => {
      // retention.ms=-1: a 2024 timestamp is past the default 7 days, and the broker may delete it.
      const topic = await createTopic('roundtrip', 1, { 'retention.ms': '-1' })
      const producer = transport.producer()
      const timestamp = Date.UTC(2024, 0, 2, 3, 4, 5, 678)
      await producer.send([
        {
          topic,
          key: Buffer.from('k1'),
          value: Buffer.from('v1'),
          timestamp,
          headers: [
            ['trace', Buffer.from('a')],
            ['trace', Buffer.from('b')],
            ['bin', Buffer.from([0, 255, 1])],
          ],
        },
        { topic, key: Buffer.from('k2'), value: null },
        { topic, value: Buffer.from('no key') },
      ])
      const consumer = transport.consumer()
      await consumer.assign([{ topic, partition: 0, from: 'earliest' }])
      const records = await pollUntil(consumer, (all) => all.length >= 3)
      await consumer.close()
      assert.equal(records.length, 3)
      const [first, tombstone, keyless] = records as [ConsumedRecord, ConsumedRecord, ConsumedRecord]
      assert.deepEqual([first.offset, tombstone.offset, keyless.offset], [0, 1, 2])
      assert.equal(first.key?.toString(), 'k1')
      assert.equal(first.value?.toString(), 'v1')
      assert.equal(first.timestamp, timestamp)
      assert.deepEqual(
        first.headers.map(([k, v]) => [k, [...v]]),
        [
          ['trace', [...Buffer.from('a')]],
          ['trace', [...Buffer.from('b')]],
          ['bin', [0, 255, 1]],
        ],
      )
      assert.equal(tombstone.value, null, 'a null value stays null (tombstone)')
      assert.equal(keyless.key, null)
      assert.ok(
        Math.abs(keyless.timestamp - Date.now()) < 60_000,
        'no timestamp given: the producer time is used',
      )
    })

    test('a string value is stored as its UTF-8 bytes, and a value of another type is refused by name', async () => {
      const topic = await createTopic('text', 1)
      const producer = transport.producer()
      const text = '{"city":"Zürich","fare":"€12","route":"北京"}'
      await producer.send([
        { topic, key: Buffer.from('k'), value: text },
        { topic, value: '' },
      ])
      await assert.rejects(
        producer.send([{ topic, value: 42 as unknown as string }]),
        (error: unknown) =>
          error instanceof TributaryError &&
          error.code === 'INVALID_ARGUMENT' &&
          error.message.includes('value') &&
          error.message.includes(topic),
      )
      await assert.rejects(
        producer.send([{ topic, key: 'k' as unknown as Buffer, value: 'v' }]),
        (error: unknown) =>
          error instanceof TributaryError &&
          error.code === 'INVALID_ARGUMENT' &&
          error.message.includes('key'),
      )
      const consumer = transport.consumer()
      await consumer.assign([{ topic, partition: 0, from: 'earliest' }])
      const records = await pollUntil(consumer, (all) => all.length >= 2)
      await consumer.close()
      assert.equal(records.length, 2, 'the refused sends wrote nothing')
      assert.deepEqual(records[0]!.value, Buffer.from(text, 'utf8'))
      assert.deepEqual(
        records[1]!.value,
        Buffer.alloc(0),
        'an empty string is an empty value, not a tombstone',
      )
    })

    test('a LogAppendTime topic replaces the producer timestamp with the broker time', async () => {
      const topic = await createTopic('logappend', 1, { 'message.timestamp.type': 'LogAppendTime' })
      const before = Date.now()
      await transport.producer().send([{ topic, value: Buffer.from('x'), timestamp: 1_000 }])
      const consumer = transport.consumer()
      await consumer.assign([{ topic, partition: 0, from: 'earliest' }])
      const [record] = await pollUntil(consumer, (all) => all.length >= 1)
      await consumer.close()
      assert.ok(record && record.timestamp >= before - 1_000 && record.timestamp <= Date.now() + 1_000)
    })

    test('the same key goes to the same partition as Kafka default partitioner computes', async () => {
      const topic = await createTopic('partitioner', 6)
      const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`)
      const sent = await transport
        .producer()
        .send(keys.map((k) => ({ topic, key: Buffer.from(k), value: Buffer.from(k) })))
      sent.forEach((meta, i) =>
        assert.equal(meta.partition, partitionForKey(Buffer.from(keys[i]!), 6), keys[i]),
      )
      const again = await transport.producer().send([{ topic, key: Buffer.from('key-7'), value: null }])
      assert.equal(again[0]?.partition, sent[7]?.partition)
    })

    test('three group members over six partitions get two each, and a leaver hands over with no committed record redelivered and none lost', async () => {
      const topic = await createTopic('group', 6)
      const groupId = `g-${randomUUID()}`
      const members = [0, 1, 2].map(() =>
        transport.consumer({ groupId, offsetReset: 'earliest', ...groupOptions }),
      )
      const received: ConsumedRecord[][] = [[], [], []]
      // The highest offset committed so far per partition: a record below it must never come again.
      const committedUpTo = new Map<string, number>()
      const violations: string[] = []
      let active = [0, 1, 2]

      // Each member processes a poll's records, then commits their next-offsets (at-least-once).
      async function step(index: number): Promise<void> {
        const consumer = members[index]!
        const records = await consumer.poll({ timeoutMs: 200 })
        for (const r of records) {
          if (r.offset < (committedUpTo.get(tpKey(r)) ?? 0))
            violations.push(`${tpKey(r)}@${r.offset} redelivered`)
          received[index]!.push(r)
        }
        const next = new Map<string, { topic: string; partition: number; offset: number }>()
        for (const r of records)
          next.set(tpKey(r), { topic: r.topic, partition: r.partition, offset: r.offset + 1 })
        if (next.size === 0) return
        try {
          await consumer.commit([...next.values()])
          for (const [key, o] of next) committedUpTo.set(key, Math.max(committedUpTo.get(key) ?? 0, o.offset))
        } catch (error) {
          // A commit refused during a rebalance only means these records may come again: allowed.
          if (!(error instanceof TributaryError) || error.code !== 'REBALANCE') throw error
        }
      }
      async function until(what: string, done: () => boolean, timeoutMs = 60_000): Promise<void> {
        const deadline = Date.now() + timeoutMs
        while (!done()) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
          await Promise.all(active.map(step))
        }
      }
      const sizes = (): number[] => active.map((i) => members[i]!.assignment().length).sort()

      try {
        await Promise.all(members.map((m) => m.subscribe([topic])))
        await until('a balanced assignment', () => sizes().join() === '2,2,2')
        const owned = new Set(active.flatMap((i) => members[i]!.assignment().map(tpKey)))
        assert.equal(owned.size, 6, 'every partition has exactly one owner')

        const producer = transport.producer()
        const batch = (tag: string) =>
          Array.from({ length: 300 }, (_, i) => ({
            topic,
            partition: i % 6,
            value: Buffer.from(`${tag}-${i}`),
          }))
        await producer.send(batch('a'))
        const total = (): number => received.reduce((n, r) => n + r.length, 0)
        await until('the first 300 records', () => total() >= 300)

        // The leaver committed everything it processed; it leaves the group gracefully.
        const leaverPartitions = members[2]!.assignment().map(tpKey)
        active = [0, 1]
        await members[2]!.close()
        await producer.send(batch('b'))
        await until(
          'the hand-over and all 600 records',
          () => sizes().join() === '3,3' && new Set(all()).size >= 600,
        )

        const moved = active.flatMap((i) => members[i]!.assignment().map(tpKey))
        for (const tp of leaverPartitions) assert.ok(moved.includes(tp), `${tp} moved to a remaining member`)
        assert.deepEqual(violations, [], 'no committed record was delivered again')
        const values = new Set(all())
        for (const tag of ['a', 'b'])
          for (let i = 0; i < 300; i++) assert.ok(values.has(`${tag}-${i}`), `${tag}-${i} lost`)
      } finally {
        await Promise.all(members.map((m) => m.close().catch(() => undefined)))
      }
      function all(): string[] {
        return received.flat().map((r) => r.value!.toString())
      }
    })

    test('committed offsets survive a consumer restart', async () => {
      const topic = await createTopic('restart', 1)
      const groupId = `g-${randomUUID()}`
      await transport.producer().send(rangeOf(10).map((i) => ({ topic, value: Buffer.from(String(i)) })))
      const first = transport.consumer({ groupId, offsetReset: 'earliest', ...groupOptions })
      await first.subscribe([topic])
      const records = await pollUntil(first, (all) => all.length >= 10)
      assert.equal(records.length, 10)
      // Processed the first six only: commit the next offset to read, 6.
      await first.commit([{ topic, partition: 0, offset: 6 }])
      await first.close()

      const second = transport.consumer({ groupId, offsetReset: 'earliest', ...groupOptions })
      await second.subscribe([topic])
      const resumed = await pollUntil(second, (all) => all.length >= 4)
      assert.deepEqual(await second.committed([{ topic, partition: 0 }]), [
        { topic, partition: 0, offset: 6 },
      ])
      await second.close()
      assert.deepEqual(
        resumed.map((r) => r.offset),
        [6, 7, 8, 9],
      )
    })

    test('with no committed offset, earliest starts at the first record and latest at the next new one', async () => {
      const topic = await createTopic('reset', 1)
      const producer = transport.producer()
      await producer.send(rangeOf(5).map((i) => ({ topic, value: Buffer.from(`old-${i}`) })))
      const earliest = transport.consumer({
        groupId: `g-${randomUUID()}`,
        offsetReset: 'earliest',
        ...groupOptions,
      })
      const latest = transport.consumer({
        groupId: `g-${randomUUID()}`,
        offsetReset: 'latest',
        ...groupOptions,
      })
      try {
        await earliest.subscribe([topic])
        await latest.subscribe([topic])
        const fromStart = await pollUntil(earliest, (all) => all.length >= 5)
        assert.deepEqual(
          fromStart.map((r) => r.value?.toString()),
          ['old-0', 'old-1', 'old-2', 'old-3', 'old-4'],
        )
        // The latest consumer must hold its assignment (and its position at the end) before the new record.
        await pollUntil(latest, () => latest.assignment().length === 1, 30_000)
        await producer.send([{ topic, value: Buffer.from('new') }])
        const fromEnd = await pollUntil(latest, (all) => all.length >= 1)
        assert.deepEqual(
          fromEnd.map((r) => r.value?.toString()),
          ['new'],
        )
      } finally {
        await earliest.close()
        await latest.close()
      }
    })

    test('assign reads from an offset, from a timestamp and from the end, with no group', async () => {
      const topic = await createTopic('assign', 1)
      const base = Date.now() - 100_000
      await transport
        .producer()
        .send(rangeOf(10).map((i) => ({ topic, value: Buffer.from(String(i)), timestamp: base + i * 1000 })))
      const consumer = transport.consumer()
      try {
        await consumer.assign([{ topic, partition: 0, from: 7 }])
        assert.deepEqual(
          (await pollUntil(consumer, (a) => a.length >= 3)).map((r) => r.offset),
          [7, 8, 9],
        )
        await consumer.assign([{ topic, partition: 0, from: { timestamp: base + 4500 } }])
        assert.deepEqual(
          (await pollUntil(consumer, (a) => a.length >= 5)).map((r) => r.offset),
          [5, 6, 7, 8, 9],
        )
        const offsets = await transport.admin().listOffsets(topic, { timestamp: base + 4500 })
        assert.deepEqual(offsets, [{ topic, partition: 0, offset: 5 }])
        await consumer.assign([{ topic, partition: 0, from: 'latest' }])
        assert.deepEqual(await consumer.poll({ timeoutMs: 300 }), [])
      } finally {
        await consumer.close()
      }
    })

    test('a transaction is invisible to read_committed consumers until it commits, and an aborted one never appears', async () => {
      const topic = await createTopic('txn', 1)
      const producer = transport.producer({ transactionalId: `tx-${randomUUID()}` })
      const committed = transport.consumer({ isolationLevel: 'read_committed' })
      const uncommitted = transport.consumer({ isolationLevel: 'read_uncommitted' })
      try {
        await committed.assign([{ topic, partition: 0, from: 'earliest' }])
        await uncommitted.assign([{ topic, partition: 0, from: 'earliest' }])

        const open = await producer.beginTransaction()
        await open.send(rangeOf(5).map((i) => ({ topic, value: Buffer.from(`c-${i}`) })))
        assert.equal(
          (await pollUntil(uncommitted, (a) => a.length >= 5)).length,
          5,
          'read_uncommitted sees open records',
        )
        assert.deepEqual(
          await committed.poll({ timeoutMs: 1_000 }),
          [],
          'read_committed sees nothing of an open transaction',
        )
        await open.commit()
        const visible = await pollUntil(committed, (a) => a.length >= 5)
        assert.deepEqual(
          visible.map((r) => r.value?.toString()),
          ['c-0', 'c-1', 'c-2', 'c-3', 'c-4'],
        )

        const aborted = await producer.beginTransaction()
        await aborted.send(rangeOf(3).map((i) => ({ topic, value: Buffer.from(`a-${i}`) })))
        await aborted.abort()
        const after = await producer.beginTransaction()
        await after.send([{ topic, value: Buffer.from('after') }])
        await after.commit()
        const rest = await pollUntil(committed, (a) => a.some((r) => r.value?.toString() === 'after'))
        assert.deepEqual(
          rest.map((r) => r.value?.toString()),
          ['after'],
          'aborted records never reach read_committed',
        )
        // Commit and abort markers take an offset each, as in Kafka: 5 + marker + 3 + marker + 1 + marker.
        const [end] = await transport.admin().listOffsets(topic, 'latest')
        assert.equal(end?.offset, 12)
      } finally {
        await committed.close()
        await uncommitted.close()
        await producer.close()
      }
    })

    test('offsets sent in a transaction are committed for the group only when the transaction commits', async () => {
      const topic = await createTopic('eos', 1)
      const groupId = `g-${randomUUID()}`
      await transport.producer().send(rangeOf(4).map((i) => ({ topic, value: Buffer.from(String(i)) })))
      const consumer = transport.consumer({
        groupId,
        offsetReset: 'earliest',
        isolationLevel: 'read_committed',
        ...groupOptions,
      })
      const producer = transport.producer({ transactionalId: `tx-${randomUUID()}` })
      try {
        await consumer.subscribe([topic])
        await pollUntil(consumer, (a) => a.length >= 4)
        const aborted = await producer.beginTransaction()
        await aborted.sendOffsets(consumer, [{ topic, partition: 0, offset: 2 }])
        await aborted.abort()
        assert.deepEqual(await consumer.committed([{ topic, partition: 0 }]), [])
        const tx = await producer.beginTransaction()
        await tx.sendOffsets(consumer, [{ topic, partition: 0, offset: 4 }])
        await tx.commit()
        assert.deepEqual(await consumer.committed([{ topic, partition: 0 }]), [
          { topic, partition: 0, offset: 4 },
        ])
      } finally {
        await consumer.close()
        await producer.close()
      }
    })

    test("a group's offsets held by an open transaction are waited for, past the client's retries, and then listed", async () => {
      const topic = await createTopic('eos-held', 1)
      const groupId = `g-${randomUUID()}`
      await transport.producer().send(rangeOf(3).map((i) => ({ topic, value: Buffer.from(String(i)) })))
      const consumer = transport.consumer({ groupId, offsetReset: 'earliest', ...groupOptions })
      const producer = transport.producer({ transactionalId: `tx-${randomUUID()}` })
      try {
        await consumer.subscribe([topic])
        await pollUntil(consumer, (a) => a.length >= 3)
        // Kafka checks pending offsets of the partitions the group committed before (a listing of all).
        await consumer.commit([{ topic, partition: 0, offset: 1 }])
        const tx = await producer.beginTransaction()
        await tx.sendOffsets(consumer, [{ topic, partition: 0, offset: 3 }])
        let listed = false
        const listing = transport
          .admin()
          .listGroupOffsets(groupId)
          .finally(() => (listed = true))
        // Held open longer than the Kafka client's own retries of UNSTABLE_OFFSET_COMMIT (about 2.5 s).
        await new Promise((resolve) => setTimeout(resolve, 4_000))
        assert.equal(listed, false, 'the listing waits while the transaction is open')
        assert.deepEqual(
          await transport.admin().listGroupOffsets(groupId, { stable: false }),
          [{ topic, partition: 0, offset: 1 }],
          'not stable: the offsets committed so far, at once',
        )
        await tx.commit()
        assert.deepEqual(await listing, [{ topic, partition: 0, offset: 3 }])
      } finally {
        await consumer.close()
        await producer.close()
      }
    })

    test('concurrent sends to new partitions of one transaction all land when it commits (none merged away)', async () => {
      // platformatic merges concurrent AddPartitionsToTxn calls by name: one request in flight at a
      // time (the send queue of a transactional producer) keeps every partition in the transaction.
      const topic = await createTopic('eos-concurrent', 6)
      const producer = transport.producer({ transactionalId: `tx-${randomUUID()}` })
      const consumer = transport.consumer({ isolationLevel: 'read_committed' })
      try {
        const tx = await producer.beginTransaction()
        await Promise.all(
          rangeOf(6).map((partition) => tx.send([{ topic, partition, value: Buffer.from(`p${partition}`) }])),
        )
        await tx.commit()
        await consumer.assign(
          rangeOf(6).map((partition) => ({ topic, partition, from: 'earliest' as const })),
        )
        const records = await pollUntil(consumer, (all) => all.length >= 6)
        assert.deepEqual(
          records.map((r) => r.value!.toString()).sort(),
          rangeOf(6).map((p) => `p${p}`),
        )
      } finally {
        await consumer.close()
        await producer.close()
      }
    })

    test('offsets of many partitions and two topics sent in one transaction are all committed with it', async () => {
      const a = await createTopic('eos-a', 3)
      const b = await createTopic('eos-b', 2)
      const groupId = `g-${randomUUID()}`
      const consumer = transport.consumer({ groupId, offsetReset: 'earliest', ...groupOptions })
      const producer = transport.producer({ transactionalId: `tx-${randomUUID()}` })
      try {
        await consumer.subscribe([a, b])
        await pollUntil(consumer, () => consumer.assignment().length === 5)
        const offsets = [
          ...rangeOf(3).map((partition) => ({ topic: a, partition, offset: 10 + partition })),
          ...rangeOf(2).map((partition) => ({ topic: b, partition, offset: 20 + partition })),
        ]
        const tx = await producer.beginTransaction()
        await tx.send([{ topic: a, partition: 0, value: Buffer.from('x') }])
        await tx.sendOffsets(consumer, offsets)
        await tx.commit()
        const committed = await consumer.committed(
          offsets.map(({ topic, partition }) => ({ topic, partition })),
        )
        const text = (list: typeof offsets): string[] =>
          list.map((o) => `${o.topic}[${o.partition}]@${o.offset}`).sort()
        assert.deepEqual(text(committed), text(offsets))
      } finally {
        await consumer.close()
        await producer.close()
      }
    })

    test('admin creates, describes, grows and deletes topics, and names what was wrong', async () => {
      const admin = transport.admin()
      const topic = topicName('admin')
      await admin.createTopics([
        { topic, partitions: 2, configs: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' } },
      ])
      assert.ok((await admin.listTopics()).includes(topic))
      const [described] = await admin.describeTopics([topic])
      assert.equal(described?.partitions.length, 2)
      assert.deepEqual(
        described?.partitions.map((p) => p.partition),
        [0, 1],
      )
      const configs = new Map((await admin.describeConfigs(topic)).map((c) => [c.name, c]))
      assert.equal(configs.get('retention.ms')?.value, '3600000')
      assert.equal(configs.get('retention.ms')?.isDefault, false)
      assert.equal(configs.get('cleanup.policy')?.value, 'compact')

      await admin.alterConfigs(topic, { set: { 'retention.ms': '7200000' }, remove: ['cleanup.policy'] })
      // The controller acknowledges the change before every broker's metadata cache has it (KRaft):
      // a describe right after may still see the old values, so wait until it does not.
      let altered = new Map((await admin.describeConfigs(topic)).map((c) => [c.name, c]))
      for (let i = 0; i < 100 && altered.get('retention.ms')?.value !== '7200000'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        altered = new Map((await admin.describeConfigs(topic)).map((c) => [c.name, c]))
      }
      assert.equal(altered.get('retention.ms')?.value, '7200000')
      assert.equal(altered.get('cleanup.policy')?.value, 'delete')
      assert.equal(altered.get('cleanup.policy')?.isDefault, true)

      await admin.createPartitions(topic, 5)
      assert.equal((await admin.describeTopics([topic]))[0]?.partitions.length, 5)
      assert.equal((await admin.listOffsets(topic, 'latest')).length, 5)

      await assertCode(admin.createPartitions(topic, 3), 'INVALID_PARTITIONS', /3|5/)
      await assertCode(admin.createTopics([{ topic, partitions: 1 }]), 'TOPIC_EXISTS', new RegExp(topic))
      await assertCode(
        admin.createTopics([{ topic: topicName('bad'), partitions: 0 }]),
        'INVALID_PARTITIONS',
        /partition/i,
      )
      await assertCode(
        admin.createTopics([{ topic: topicName('bad'), partitions: 1, configs: { 'retention.msx': '1' } }]),
        'INVALID_CONFIG',
        /retention\.msx/,
      )
      await assertCode(
        admin.alterConfigs(topic, { set: { 'no.such.config': '1' } }),
        'INVALID_CONFIG',
        /no\.such\.config/,
      )

      await admin.deleteTopics([topic])
      await waitFor(async () => !(await admin.listTopics()).includes(topic))
      const missing = topicName('missing')
      await assertCode(admin.describeTopics([missing]), 'UNKNOWN_TOPIC', new RegExp(missing))
      await assertCode(
        transport.producer().send([{ topic: missing, value: null }]),
        'UNKNOWN_TOPIC',
        new RegExp(missing),
      )
    })

    test('groups are listed and described with their members, assignment and committed offsets', async () => {
      const topic = await createTopic('describe', 2)
      const groupId = `g-${randomUUID()}`
      const consumer = transport.consumer({ groupId, offsetReset: 'earliest', ...groupOptions })
      try {
        await consumer.subscribe([topic])
        await pollUntil(consumer, () => consumer.assignment().length === 2, 30_000)
        await consumer.commit([{ topic, partition: 1, offset: 0 }])
        const admin = transport.admin()
        assert.ok((await admin.listGroups()).some((g) => g.groupId === groupId))
        const description = await admin.describeGroup(groupId)
        assert.equal(description.state, 'Stable')
        assert.equal(description.members.length, 1)
        assert.deepEqual(description.members[0]?.assignment.map(tpKey).sort(), [`${topic}[0]`, `${topic}[1]`])
        assert.deepEqual(await admin.listGroupOffsets(groupId), [{ topic, partition: 1, offset: 0 }])
      } finally {
        await consumer.close()
      }
    })

    test('offsets are committed and forgotten from outside a group only while it has no live member', async () => {
      const topic = await createTopic('alter', 2)
      const groupId = `g-${randomUUID()}`
      const admin = transport.admin()
      await admin.alterGroupOffsets(groupId, [
        { topic, partition: 0, offset: 0 },
        { topic, partition: 1, offset: 0 },
      ])
      assert.deepEqual(await admin.listGroupOffsets(groupId), [
        { topic, partition: 0, offset: 0 },
        { topic, partition: 1, offset: 0 },
      ])
      const consumer = transport.consumer({ groupId, offsetReset: 'earliest', ...groupOptions })
      try {
        await consumer.subscribe([topic])
        await pollUntil(consumer, () => consumer.assignment().length === 2, 30_000)
        await assertCode(
          admin.alterGroupOffsets(groupId, [{ topic, partition: 0, offset: 0 }]),
          'GROUP_NOT_EMPTY',
          /1 live member/,
        )
        await assertCode(
          admin.deleteGroupOffsets(groupId, [{ topic, partition: 0 }]),
          'GROUP_NOT_EMPTY',
          new RegExp(topic),
        )
        await assertCode(admin.deleteGroup(groupId), 'GROUP_NOT_EMPTY', /1 live member/)
      } finally {
        await consumer.close()
      }
      await waitFor(async () => (await admin.describeGroup(groupId)).members.length === 0)
      await admin.deleteGroupOffsets(groupId, [{ topic, partition: 1 }])
      assert.deepEqual(await admin.listGroupOffsets(groupId), [{ topic, partition: 0, offset: 0 }])
      await admin.deleteGroup(groupId)
      assert.deepEqual(await admin.listGroupOffsets(groupId), [])
    })

    // Group assignors and generations, static membership, flow control: see the two files.
    const context: ContractContext = {
      transport: () => transport,
      createTopic: (name, partitions) => createTopic(name, partitions),
      groupOptions,
    }
    groupContract(context)
    flowContract(context)
  })
}

async function assertCode(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TributaryError, `a TributaryError, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    assert.match(error.message, message)
    return true
  })
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 100))
  }
}
