import assert from 'node:assert/strict'
import { describe, mock, test } from 'node:test'
import { OutputBatcher } from '../../../src/runtime/output/batcher.js'
import type { ProducerRecord, RecordMetadata } from '../../../src/transport/types.js'
import { gate, turns, until } from '../task/fakes.js'

const r = (value: string): ProducerRecord => ({ topic: 'out', value: Buffer.from(value) })
const values = (records: ProducerRecord[]): string[] => records.map((x) => x.value!.toString())

/** A producer that records each send and answers it when the test says (or at once when `auto`). */
function fakeProducer(auto = true): {
  send: (records: ProducerRecord[]) => Promise<RecordMetadata[]>
  batches: string[][]
  answer: (i: number, error?: Error) => void
} {
  const batches: string[][] = []
  const pending: Array<{ records: ProducerRecord[]; open: () => void; fail: (e: Error) => void }> = []
  return {
    batches,
    send: (records) => {
      batches.push(values(records))
      const meta = records.map((_, i) => ({ topic: 'out', partition: 0, offset: 100 * batches.length + i }))
      if (auto) return Promise.resolve(meta)
      return new Promise((resolve, reject) =>
        pending.push({ records, open: () => resolve(meta), fail: reject }),
      )
    },
    answer: (i, error) => (error ? pending[i]!.fail(error) : pending[i]!.open()),
  }
}

describe('OutputBatcher', () => {
  test('records enqueued within one turn go out in one send, in call order', async () => {
    const producer = fakeProducer()
    const batcher = new OutputBatcher(producer.send)
    batcher.enqueue([r('a1'), r('a2')], () => undefined)
    batcher.enqueue([r('b1')], () => undefined)
    batcher.enqueue([r('c1'), r('c2'), r('c3')], () => undefined)
    assert.deepEqual(producer.batches, [], 'nothing sent before the turn ends')
    assert.equal(batcher.queued, 6)
    await until('one send', () => producer.batches.length === 1)
    await turns()
    assert.deepEqual(producer.batches, [['a1', 'a2', 'b1', 'c1', 'c2', 'c3']])
    assert.equal(batcher.queued, 0)
  })

  test('records enqueued in later turns go in later sends', async () => {
    const producer = fakeProducer()
    const batcher = new OutputBatcher(producer.send)
    batcher.enqueue([r('a')], () => undefined)
    await until('first send', () => producer.batches.length === 1)
    batcher.enqueue([r('b')], () => undefined)
    await until('second send', () => producer.batches.length === 2)
    assert.deepEqual(producer.batches, [['a'], ['b']])
  })

  test('a batch that reaches maxRecords is sent at once, the rest in the next send', async () => {
    const producer = fakeProducer()
    const batcher = new OutputBatcher(producer.send, 3)
    batcher.enqueue([r('a'), r('b')], () => undefined)
    batcher.enqueue([r('c'), r('d')], () => undefined)
    assert.deepEqual(producer.batches, [['a', 'b', 'c', 'd']])
    batcher.enqueue([r('e')], () => undefined)
    await until('the rest sent', () => producer.batches.length === 2)
    assert.deepEqual(producer.batches[1], ['e'])
  })

  test("each call's callback gets its own records' metadata, and only when asked for", async () => {
    const producer = fakeProducer()
    const batcher = new OutputBatcher(producer.send)
    const a = batcher.send([r('a1'), r('a2')])
    let plain: unknown[] | undefined
    batcher.enqueue([r('b1')], (error, meta) => (plain = [error, meta]))
    const c = batcher.send([r('c1'), r('c2')])
    assert.deepEqual(
      (await a).map((m) => m.offset),
      [100, 101],
    )
    assert.deepEqual(
      (await c).map((m) => m.offset),
      [103, 104],
    )
    assert.deepEqual(plain, [undefined, undefined])
  })

  test('a failed send fails every call of its batch', async () => {
    const producer = fakeProducer(false)
    const batcher = new OutputBatcher(producer.send)
    const errors: Array<Error | undefined> = []
    batcher.enqueue([r('a')], (e) => void errors.push(e))
    batcher.enqueue([r('b')], (e) => void errors.push(e))
    const promised = batcher.send([r('c')])
    await until('sent', () => producer.batches.length === 1)
    producer.answer(0, new Error('MESSAGE_TOO_LARGE'))
    await assert.rejects(promised, /MESSAGE_TOO_LARGE/)
    assert.deepEqual(
      errors.map((e) => e?.message),
      ['MESSAGE_TOO_LARGE', 'MESSAGE_TOO_LARGE'],
    )
  })

  test('held outputs are reported to their owner once per run of one runner, with every held entry in call order', async () => {
    const producer = fakeProducer(false)
    const batcher = new OutputBatcher(producer.send)
    const reports: Array<{ owner: string; runner: string; helds: unknown[]; count: number; error?: string }> =
      []
    const owner = (name: string) => ({
      outputsDelivered: (runner: unknown, helds: readonly unknown[], count: number, error?: Error) =>
        void reports.push({
          owner: name,
          runner: String(runner),
          helds: [...helds],
          count,
          error: error?.message,
        }),
    })
    const t1 = owner('t1')
    const t2 = owner('t2')
    batcher.enqueueHeld(r('a'), t1, 'p', 1)
    batcher.enqueueHeld([r('b'), r('c')], t1, 'p', 2)
    batcher.enqueueHeld(r('d'), t1, 'q', 3)
    batcher.enqueueHeld(r('e'), t2, 'p', 4)
    batcher.enqueueHeld(r('f'), t1, 'p', 5)
    await until('sent', () => producer.batches.length === 1)
    assert.deepEqual(producer.batches, [['a', 'b', 'c', 'd', 'e', 'f']])
    assert.deepEqual(reports, [], 'nothing is reported before the acknowledgement')
    producer.answer(0)
    await until('reported', () => reports.length === 4)
    assert.deepEqual(reports, [
      { owner: 't1', runner: 'p', helds: [1, 2], count: 3, error: undefined },
      { owner: 't1', runner: 'q', helds: [3], count: 1, error: undefined },
      { owner: 't2', runner: 'p', helds: [4], count: 1, error: undefined },
      { owner: 't1', runner: 'p', helds: [5], count: 1, error: undefined },
    ])
    reports.length = 0
    batcher.enqueueHeld(r('g'), t2, 'p', 6)
    batcher.enqueueHeld(r('h'), t2, 'p', 7)
    await until('sent again', () => producer.batches.length === 2)
    producer.answer(1, new Error('NOT_ENOUGH_REPLICAS'))
    await until('failure reported', () => reports.length === 1)
    assert.deepEqual(reports, [
      { owner: 't2', runner: 'p', helds: [6, 7], count: 2, error: 'NOT_ENOUGH_REPLICAS' },
    ])
  })

  test('a callback that throws does not keep the other callbacks of its batch from running', async (t) => {
    // The batcher rethrows the callback's error on a microtask (so it is not swallowed): catch it.
    const rethrown: Array<() => void> = []
    t.mock.method(globalThis, 'queueMicrotask', (fn: () => void) => void rethrown.push(fn))
    const producer = fakeProducer()
    const batcher = new OutputBatcher(producer.send)
    const seen: string[] = []
    batcher.enqueue([r('a')], () => void seen.push('a'))
    batcher.enqueue([r('b')], () => {
      throw new Error('callback bug')
    })
    batcher.enqueue([r('c')], () => void seen.push('c'))
    await until('every callback ran', () => seen.length === 2)
    assert.deepEqual(seen, ['a', 'c'])
    assert.equal(rethrown.length, 1)
    assert.throws(rethrown[0]!, /callback bug/)
  })

  test('while the gate is closed nothing is sent; open() sends what was held as one batch', async () => {
    const producer = fakeProducer()
    const batcher = new OutputBatcher(producer.send, 3)
    batcher.close()
    assert.equal(batcher.gated, true)
    const acked: string[] = []
    batcher.enqueue([r('a')], () => void acked.push('a'))
    await turns()
    batcher.enqueue([r('b'), r('c')], () => void acked.push('b'))
    batcher.enqueue([r('d')], () => void acked.push('d')) // past maxRecords: still held
    await turns()
    assert.deepEqual(producer.batches, [])
    assert.equal(batcher.queued, 4)
    batcher.open()
    assert.equal(batcher.gated, false)
    assert.deepEqual(producer.batches, [['a', 'b', 'c', 'd']])
    await until('acknowledged', () => acked.length === 3)
    assert.deepEqual(acked, ['a', 'b', 'd'])
    batcher.enqueue([r('e')], () => undefined)
    await until('later sends go as usual', () => producer.batches.length === 2)
  })

  test('opening a gate with nothing held sends nothing', async () => {
    const send = mock.fn((_records: ProducerRecord[]) => Promise.resolve([] as RecordMetadata[]))
    const batcher = new OutputBatcher(send)
    batcher.close()
    batcher.open()
    await turns()
    assert.equal(send.mock.callCount(), 0)
  })

  test('a later batch is sent without waiting for the acknowledgement of an earlier one', async () => {
    const producer = fakeProducer(false)
    const batcher = new OutputBatcher(producer.send)
    const first = gate()
    batcher.enqueue([r('a')], () => first.open())
    await until('first sent', () => producer.batches.length === 1)
    batcher.enqueue([r('b')], () => undefined)
    await until('second sent', () => producer.batches.length === 2)
    assert.deepEqual(producer.batches, [['a'], ['b']])
    producer.answer(1)
    producer.answer(0)
    await first.promise
  })
})
