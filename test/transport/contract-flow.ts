/**
 * The flow-control part of the transport contract: pause/resume, position and watermarks (with an
 * open transaction holding the last stable offset back), and listOffsets by isolation level.
 * Called from contract.ts, so it runs unchanged on memory:// and on a real Kafka broker.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import type { ConsumedRecord, Consumer, Producer, TopicPartition } from '../../src/transport/types.js'
import type { ContractContext } from './contract-groups.js'
import { pollUntil, rangeOf } from './helpers.js'

/** Sends `count` records to one partition, valued `<tag>-<i>`. */
function fill(producer: Producer, topic: string, partition: number, tag: string, count: number) {
  return producer.send(rangeOf(count).map((i) => ({ topic, partition, value: Buffer.from(`${tag}-${i}`) })))
}

/** Polls small batches into `into` until `done` holds. */
async function pollInto(
  consumer: Consumer,
  into: ConsumedRecord[],
  what: string,
  done: () => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${into.length} records)`)
    into.push(...(await consumer.poll({ timeoutMs: 200, maxRecords: 5 })))
  }
}

export function flowContract(ctx: ContractContext): void {
  test(`a paused partition is not returned while the others keep flowing, and after resume it continues with nothing lost or repeated`, async () => {
    const topic = await ctx.createTopic('pause', 2)
    const producer = ctx.transport().producer()
    const consumer = ctx.transport().consumer()
    const p0: TopicPartition = { topic, partition: 0 }
    const p1: TopicPartition = { topic, partition: 1 }
    const seen: ConsumedRecord[] = []
    const of = (partition: number): number[] =>
      seen.filter((r) => r.partition === partition).map((r) => r.offset)
    try {
      await fill(producer, topic, 0, 'a', 30)
      await fill(producer, topic, 1, 'a', 30)
      await consumer.assign([
        { ...p0, from: 'earliest' },
        { ...p1, from: 'earliest' },
      ])
      await pollInto(consumer, seen, 'a first record of partition 0', () => of(0).length > 0)
      // Records of partition 0 fetched ahead may be buffered by now: they must wait for resume.
      consumer.pause([p0])
      assert.deepEqual(consumer.paused(), [p0])
      const atPause = of(0).length
      await fill(producer, topic, 0, 'b', 30)
      await fill(producer, topic, 1, 'b', 30)
      await pollInto(consumer, seen, 'all of partition 1', () => of(1).length >= 60)
      assert.equal(of(0).length, atPause, 'nothing of the paused partition came')
      assert.deepEqual(consumer.assignment().length, 2, 'pausing does not unassign')

      consumer.resume([p0])
      assert.deepEqual(consumer.paused(), [])
      await pollInto(consumer, seen, 'all of partition 0', () => of(0).length >= 60)
      assert.deepEqual(of(0), rangeOf(60), 'partition 0 in order, none lost, none twice')
      assert.deepEqual(of(1), rangeOf(60), 'partition 1 in order, none lost, none twice')
    } finally {
      await consumer.close()
      await producer.close()
    }
  })

  test(`position is the next offset to read and watermarks give the high watermark and the last stable offset`, async () => {
    const topic = await ctx.createTopic('position', 1)
    const tp: TopicPartition = { topic, partition: 0 }
    const plain = ctx.transport().producer()
    const transactional = ctx.transport().producer({ transactionalId: `tx-${randomUUID()}` })
    const committed = ctx.transport().consumer({ isolationLevel: 'read_committed' })
    const uncommitted = ctx.transport().consumer({ isolationLevel: 'read_uncommitted' })
    try {
      // Offsets 0-2 plain, 3-4 in an open transaction, 5 plain: the last stable offset is 3.
      await fill(plain, topic, 0, 'before', 3)
      const tx = await transactional.beginTransaction()
      await tx.send(rangeOf(2).map((i) => ({ topic, partition: 0, value: Buffer.from(`in-${i}`) })))
      await fill(plain, topic, 0, 'after', 1)
      await committed.assign([{ ...tp, from: 'earliest' }])
      await uncommitted.assign([{ ...tp, from: 'earliest' }])

      const stable = await pollUntil(committed, (all) => all.length >= 3)
      assert.deepEqual(
        stable.map((r) => r.offset),
        [0, 1, 2],
      )
      assert.equal(committed.position(tp), 3)
      assert.deepEqual(committed.watermarks(tp), { highWatermark: 6, lastStableOffset: 3 })

      await pollUntil(uncommitted, (all) => all.length >= 6)
      assert.equal(uncommitted.position(tp), 6)
      assert.deepEqual(uncommitted.watermarks(tp), { highWatermark: 6, lastStableOffset: 3 })

      // The commit marker takes offset 6; read_committed then reads past it, to the new end.
      await tx.commit()
      const rest = await pollUntil(committed, (all) => all.length >= 3 && committed.position(tp) === 7)
      assert.deepEqual(
        rest.map((r) => r.value?.toString()),
        ['in-0', 'in-1', 'after-0'],
      )
      assert.deepEqual(committed.watermarks(tp), { highWatermark: 7, lastStableOffset: 7 })
      assert.equal(committed.position({ topic, partition: 9 }), undefined, 'not assigned: unknown')
    } finally {
      await committed.close()
      await uncommitted.close()
      await transactional.close()
      await plain.close()
    }
  })

  test(`listOffsets 'latest' is the last stable offset under read_committed and the log end under read_uncommitted`, async () => {
    const topic = await ctx.createTopic('isolation', 1)
    const admin = ctx.transport().admin()
    const plain = ctx.transport().producer()
    const transactional = ctx.transport().producer({ transactionalId: `tx-${randomUUID()}` })
    const latest = async (isolationLevel?: 'read_committed' | 'read_uncommitted'): Promise<number> => {
      const offsets = await admin.listOffsets(topic, 'latest', isolationLevel ? { isolationLevel } : {})
      return offsets[0]!.offset
    }
    try {
      await fill(plain, topic, 0, 'plain', 3)
      const tx = await transactional.beginTransaction()
      await tx.send(rangeOf(2).map((i) => ({ topic, partition: 0, value: Buffer.from(`in-${i}`) })))
      assert.equal(await latest(), 5, 'read_uncommitted by default: the log end offset')
      assert.equal(await latest('read_uncommitted'), 5)
      assert.equal(
        await latest('read_committed'),
        3,
        'read_committed: the first offset of the open transaction',
      )
      const [earliest] = await admin.listOffsets(topic, 'earliest', { isolationLevel: 'read_committed' })
      assert.equal(earliest?.offset, 0)
      await tx.commit()
      // Kafka writes the commit markers after EndTxn answered: the last stable offset follows soon.
      const deadline = Date.now() + 10_000
      while ((await latest('read_committed')) !== 6 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20))
      assert.equal(await latest('read_committed'), 6, 'committed: the end, past the commit marker')
      assert.equal(await latest('read_uncommitted'), 6)
    } finally {
      await transactional.close()
      await plain.close()
    }
  })
}
