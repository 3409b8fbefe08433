/** kafka:// ProduceClient against a scripted broker connection: what counts as written, and sequences. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Producer as PltProducer } from '@platformatic/kafka'
import { ProduceClient, type OutMessage } from '../../../src/transport/kafka/produce.js'
import type { PartitionAnswer } from '../../../src/transport/kafka/wire/produce.js'

/** A client whose one broker (node 1) leads every partition and answers with `answer(request n)`. */
function scripted(
  answer: (n: number) => PartitionAnswer[],
  leader = 1,
): { client: PltProducer; requests: () => number; cleared: () => number } {
  let n = 0
  let cleared = 0
  const metadata = {
    brokers: new Map([[1, { host: '127.0.0.1', port: 1 }]]),
    topics: new Map([['t', { partitions: [{ leader }, { leader }], partitionsCount: 2 }]]),
  }
  const connection = {
    send: (
      _k: number,
      _v: number,
      _req: unknown,
      _parse: unknown,
      _a: boolean,
      _b: boolean,
      cb: (e: Error | null, r?: unknown) => void,
    ) => queueMicrotask(() => cb(null, answer(n++))),
  }
  const client = {
    metadata: () => Promise.resolve(metadata),
    connections: { get: () => Promise.resolve(connection) },
    clearMetadata: () => {
      cleared++
    },
  } as unknown as PltProducer
  return { client, requests: () => n, cleared: () => cleared }
}

const messages: OutMessage[] = [0, 1].map((partition) => ({
  topic: 't',
  partition,
  key: null,
  value: Buffer.from('v'),
  headers: undefined,
  timestamp: 1_700_000_000_000,
}))

describe('kafka:// produce client', () => {
  test('a partition the broker did not answer for is not reported written', async () => {
    const { client } = scripted(() => [
      { topic: 't', partition: 0, errorCode: 0, baseOffset: 7, message: null },
    ])
    const produce = new ProduceClient(client, -1, 1_000, 'none')
    await assert.rejects(
      produce.send(messages, undefined),
      (error: Error & { produced?: { offsets: unknown[] } }) => {
        assert.match(error.message, /said nothing of t:1/)
        assert.deepEqual(error.produced?.offsets, [{ topic: 't', partition: 0, offset: 7 }])
        return true
      },
    )
  })

  test('a refused partition names its topic, partition and the broker reason; the written one is reported', async () => {
    const { client } = scripted(() => [
      { topic: 't', partition: 0, errorCode: 0, baseOffset: 3, message: null },
      { topic: 't', partition: 1, errorCode: 10, baseOffset: -1, message: 'too big' },
    ])
    const produce = new ProduceClient(client, -1, 1_000, 'none')
    await assert.rejects(
      produce.send(messages, undefined),
      (error: Error & { errors?: Error[]; produced?: { offsets: unknown[] } }) => {
        assert.match(
          error.errors![0]!.message +
            String((error.errors![0] as { serverErrorMessage?: string }).serverErrorMessage),
          /too big, for topic "t" partition 1/,
        )
        assert.deepEqual(error.produced?.offsets, [{ topic: 't', partition: 0, offset: 3 }])
        return true
      },
    )
  })

  test('partitions whose leader is not among the brokers are each refused as LEADER_NOT_AVAILABLE, sending nothing', async () => {
    const { client, requests, cleared } = scripted(() => [], 9)
    const produce = new ProduceClient(client, -1, 1_000, 'none')
    await assert.rejects(produce.send(messages, undefined), (error: Error & { errors?: Error[] }) => {
      assert.deepEqual(
        error.errors?.map((e) => (e as { apiId?: string }).apiId),
        ['LEADER_NOT_AVAILABLE', 'LEADER_NOT_AVAILABLE'],
      )
      return true
    })
    assert.equal(requests(), 0)
    assert.ok(cleared() > 0, 'the metadata is looked up afresh before the retry')
  })

  test('a refusal for a moved leader clears the metadata; a refusal for a too large batch does not', async () => {
    const moved = scripted(() => [
      { topic: 't', partition: 0, errorCode: 6, baseOffset: -1, message: null },
      { topic: 't', partition: 1, errorCode: 0, baseOffset: 0, message: null },
    ])
    await assert.rejects(new ProduceClient(moved.client, -1, 1_000, 'none').send(messages, undefined))
    assert.equal(moved.cleared(), 1)
    const large = scripted(() => [
      { topic: 't', partition: 0, errorCode: 10, baseOffset: -1, message: null },
      { topic: 't', partition: 1, errorCode: 0, baseOffset: 0, message: null },
    ])
    await assert.rejects(new ProduceClient(large.client, -1, 1_000, 'none').send(messages, undefined))
    assert.equal(large.cleared(), 0)
  })
})
