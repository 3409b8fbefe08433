import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, test } from 'node:test'
import { produce } from '../../src/cli/commands/produce.js'
import { TributaryError } from '../../src/errors.js'
import type { Transport } from '../../src/transport/types.js'
import { Collector, memoryTransport, readTopic } from './helpers.js'

function code(expected: string, message: RegExp) {
  return (error: unknown) =>
    error instanceof TributaryError && error.code === expected && message.test(error.message)
}

async function withTopic(partitions: number, body: (transport: Transport) => Promise<void>): Promise<void> {
  const transport = memoryTransport()
  try {
    await transport.admin().createTopics([{ topic: 't', partitions }])
    await body(transport)
  } finally {
    await transport.close()
  }
}

const input = (text: string): Readable => Readable.from([Buffer.from(text)])

describe('tributary produce on memory://', () => {
  test('keyed lines become keyed records and a summary line is printed', async () => {
    await withTopic(3, async (transport) => {
      const err = new Collector()
      const lines = Array.from({ length: 1200 }, (_, i) => `k${i % 10},value ${i}`).join('\n') + '\n'
      const summary = await produce(
        transport,
        { topic: 't', keyDelimiter: ',', batchSize: 100 },
        { input: input(lines), err },
      )
      assert.equal(summary.delivered, 1200)
      assert.match(err.text(), /^Produced 1200 records to t in \d+\.\d\d s \(\d+ rec\/s\)\n$/)
      const records = await readTopic(transport, 't')
      assert.equal(records.length, 1200)
      for (const record of records) {
        const i = Number(record.value?.toString().slice('value '.length))
        assert.equal(record.key?.toString(), `k${i % 10}`)
      }
      // Per-partition order is the input order.
      for (const partition of [0, 1, 2]) {
        const values = records
          .filter((r) => r.partition === partition)
          .map((r) => Number(r.value?.toString().slice(6)))
        assert.deepEqual(
          values,
          [...values].sort((a, b) => a - b),
        )
      }
    })
  })

  test('a line without the key delimiter stops the run, naming the line, after sending the lines before it', async () => {
    await withTopic(1, async (transport) => {
      const err = new Collector()
      await assert.rejects(
        produce(
          transport,
          { topic: 't', keyDelimiter: ':' },
          { input: input('a:1\nb:2\nno delimiter\nc:3\n'), err },
        ),
        code('INVALID_ARGUMENT', /Line 3 has no key delimiter ":"/),
      )
      assert.match(err.text(), /Produced 2 records to t/)
      assert.deepEqual(
        (await readTopic(transport, 't')).map((r) => r.value?.toString()),
        ['1', '2'],
      )
    })
  })

  test('an empty key delimiter is rejected before anything is read', async () => {
    await withTopic(1, async (transport) => {
      await assert.rejects(
        produce(transport, { topic: 't', keyDelimiter: '' }, { input: input('a\n'), err: new Collector() }),
        code('INVALID_ARGUMENT', /--key-delimiter must not be empty/),
      )
    })
  })

  test('an unknown topic and a partition out of range are named', async () => {
    await withTopic(2, async (transport) => {
      await assert.rejects(
        produce(transport, { topic: 'missing' }, { input: input('a\n'), err: new Collector() }),
        code('UNKNOWN_TOPIC', /Topic "missing" does not exist/),
      )
      await assert.rejects(
        produce(transport, { topic: 't', partition: 2 }, { input: input('a\n'), err: new Collector() }),
        code('INVALID_PARTITIONS', /has 2 partitions \(0\.\.1\); there is no partition 2/),
      )
    })
  })

  test('--count stops early, a shorter file simply ends, headers and partition apply to every record', async () => {
    await withTopic(2, async (transport) => {
      const dir = await mkdtemp(join(tmpdir(), 'tributary-cli-'))
      const file = join(dir, 'lines.txt')
      writeFileSync(file, 'a\nb\nc\n')
      const options = { topic: 't', file, partition: 1, headers: ['source=cli'] }
      const first = await produce(
        transport,
        { ...options, count: 2 },
        { input: input(''), err: new Collector() },
      )
      assert.equal(first.delivered, 2)
      const second = await produce(
        transport,
        { ...options, count: 10 },
        { input: input(''), err: new Collector() },
      )
      assert.equal(second.delivered, 3)
      const records = await readTopic(transport, 't')
      assert.deepEqual(
        records.map((r) => [
          r.partition,
          r.value?.toString(),
          r.headers[0]?.[0],
          r.headers[0]?.[1].toString(),
        ]),
        [
          [1, 'a', 'source', 'cli'],
          [1, 'b', 'source', 'cli'],
          [1, 'a', 'source', 'cli'],
          [1, 'b', 'source', 'cli'],
          [1, 'c', 'source', 'cli'],
        ],
      )
    })
  })

  test('--frequency sends at a fixed rate', async () => {
    await withTopic(1, async (transport) => {
      const started = Date.now()
      const summary = await produce(
        transport,
        { topic: 't', frequencyMs: 40 },
        { input: input('1\n2\n3\n4\n5\n'), err: new Collector() },
      )
      assert.equal(summary.delivered, 5)
      assert.ok(Date.now() - started >= 4 * 40 - 5, `took ${Date.now() - started} ms`)
    })
  })

  test('an interrupt stops reading, delivers what was accepted and reports the counts', async () => {
    await withTopic(1, async (transport) => {
      const controller = new AbortController()
      let n = 0
      // An endless source, like a terminal or a pipe that never ends.
      const endless = new Readable({
        read() {
          setTimeout(() => this.push(Buffer.from(`${n++}\n`)), 1)
        },
      })
      setTimeout(() => controller.abort(), 200)
      const err = new Collector()
      const summary = await produce(
        transport,
        { topic: 't' },
        { input: endless, err, signal: controller.signal },
      )
      assert.equal(summary.interrupted, true)
      assert.ok(summary.delivered > 0)
      assert.equal(summary.accepted, summary.delivered)
      assert.match(
        err.text(),
        new RegExp(`Interrupted: ${summary.delivered} records delivered to t, 0 not delivered`),
      )
      const values = (await readTopic(transport, 't')).map((r) => Number(r.value?.toString()))
      assert.deepEqual(
        values,
        Array.from({ length: summary.delivered }, (_, i) => i),
      )
    })
  })
})
