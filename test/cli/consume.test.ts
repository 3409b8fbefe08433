import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { consume } from '../../src/cli/commands/consume.js'
import type { ConsumeOptions } from '../../src/cli/commands/consume.js'
import { TributaryError } from '../../src/errors.js'
import type { ProducerRecord, Transport } from '../../src/transport/types.js'
import { Collector, memoryTransport } from './helpers.js'

function code(expected: string, message: RegExp) {
  return (error: unknown) =>
    error instanceof TributaryError && error.code === expected && message.test(error.message)
}

/** Topic `t` with `count` records `v<i>` keyed `k<i>`, round-robin over `partitions` partitions. */
async function seeded(partitions: number, count: number): Promise<Transport> {
  const transport = memoryTransport()
  await transport.admin().createTopics([{ topic: 't', partitions }])
  const records: ProducerRecord[] = Array.from({ length: count }, (_, i) => ({
    topic: 't',
    partition: i % partitions,
    key: Buffer.from(`k${i}`),
    value: Buffer.from(`v${i}`),
    timestamp: 1_000_000 + i * 1000,
  }))
  const producer = transport.producer()
  await producer.send(records)
  await producer.close()
  return transport
}

async function run(transport: Transport, options: Partial<ConsumeOptions>, signal?: AbortSignal) {
  const out = new Collector()
  const err = new Collector()
  const summary = await consume(
    transport,
    { topics: ['t'], pollTimeoutMs: 100, ...options },
    { out, err, signal },
  )
  return { summary, out, err }
}

describe('tributary consume on memory://', () => {
  test('without a group it reads every partition from the beginning to the end and creates no group', async () => {
    const transport = await seeded(3, 30)
    try {
      const { summary, out, err } = await run(transport, { from: 'beginning', exitAtEnd: true })
      assert.equal(summary.reason, 'end')
      assert.deepEqual(out.lines().sort(), Array.from({ length: 30 }, (_, i) => `v${i}`).sort())
      assert.match(err.text(), /Consumed 30 records\./)
      assert.deepEqual(await transport.admin().listGroups(), [])
    } finally {
      await transport.close()
    }
  })

  test('--exit-at-end on an empty topic returns at once', async () => {
    const transport = await seeded(2, 0)
    try {
      const started = Date.now()
      const { summary } = await run(transport, { from: 'beginning', exitAtEnd: true })
      assert.equal(summary.consumed, 0)
      assert.ok(Date.now() - started < 2000)
    } finally {
      await transport.close()
    }
  })

  test('with a group it commits exactly what it printed, and the next run continues from there', async () => {
    const transport = await seeded(2, 20)
    try {
      const first = await run(transport, { group: 'g', from: 'beginning', count: 7 })
      assert.equal(first.summary.reason, 'count')
      assert.equal(first.out.lines().length, 7)
      const committed = await transport.admin().listGroupOffsets('g')
      assert.equal(
        committed.reduce((sum, o) => sum + o.offset, 0),
        7,
      )
      const second = await run(transport, { group: 'g', from: 'beginning', exitAtEnd: true })
      assert.equal(second.out.lines().length, 13)
      assert.deepEqual(
        [...first.out.lines(), ...second.out.lines()].sort(),
        Array.from({ length: 20 }, (_, i) => `v${i}`).sort(),
      )
    } finally {
      await transport.close()
    }
  })

  test('json prints one envelope per line and --print-key prefixes the key in text', async () => {
    const transport = await seeded(1, 2)
    try {
      const json = await run(transport, { from: 'beginning', exitAtEnd: true, format: 'json' })
      const first = JSON.parse(json.out.lines()[0] ?? '{}') as Record<string, unknown>
      assert.deepEqual(first, {
        topic: 't',
        partition: 0,
        offset: 0,
        timestamp: 1_000_000,
        key: 'k0',
        value: 'v0',
        headers: [],
      })
      const text = await run(transport, { from: 'beginning', exitAtEnd: true, printKey: true })
      assert.deepEqual(text.out.lines(), ['k0\tv0', 'k1\tv1'])
    } finally {
      await transport.close()
    }
  })

  test('--from an offset or a time, on one partition', async () => {
    const transport = await seeded(2, 10)
    try {
      const byOffset = await run(transport, { partition: 1, from: { offset: 3 }, exitAtEnd: true })
      assert.deepEqual(byOffset.out.lines(), ['v7', 'v9'])
      const byTime = await run(transport, {
        partition: 0,
        from: { timestamp: 1_000_000 + 5500 },
        exitAtEnd: true,
      })
      assert.deepEqual(byTime.out.lines(), ['v6', 'v8'])
      const fromEnd = await run(transport, { from: 'end', exitAtEnd: true })
      assert.deepEqual(fromEnd.out.lines(), [])
    } finally {
      await transport.close()
    }
  })

  test('an unknown topic, a partition out of range and --partition with two topics are refused', async () => {
    const transport = await seeded(2, 0)
    try {
      await assert.rejects(run(transport, { topics: ['t', 'missing'] }), code('UNKNOWN_TOPIC', /missing/))
      await assert.rejects(run(transport, { partition: 5 }), code('INVALID_PARTITIONS', /no partition 5/))
      await assert.rejects(
        run(transport, { topics: ['t', 't'], partition: 0 }),
        code('INVALID_ARGUMENT', /exactly one topic/),
      )
    } finally {
      await transport.close()
    }
  })

  test('an interrupt stops consuming and commits what was printed', async () => {
    const transport = await seeded(1, 5)
    try {
      const controller = new AbortController()
      setTimeout(() => controller.abort(), 500)
      const { summary } = await run(transport, { group: 'g', from: 'beginning' }, controller.signal)
      assert.equal(summary.reason, 'interrupted')
      assert.equal(summary.consumed, 5)
      assert.deepEqual(await transport.admin().listGroupOffsets('g'), [
        { topic: 't', partition: 0, offset: 5 },
      ])
    } finally {
      await transport.close()
    }
  })
})
