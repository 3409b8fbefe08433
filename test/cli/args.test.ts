import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, test } from 'node:test'
import { TributaryError } from '../../src/errors.js'
import { parseAcks, parseConfigs, parseFrom, parseHeaders, parseInteger } from '../../src/cli/args.js'
import { chunkedLines } from '../../src/cli/lines.js'
import { formatTable } from '../../src/cli/output.js'
import { envelope, formatRecord } from '../../src/cli/records.js'
import type { ConsumedRecord } from '../../src/transport/types.js'

function invalid(pattern: RegExp) {
  return (error: unknown) =>
    error instanceof TributaryError && error.code === 'INVALID_ARGUMENT' && pattern.test(error.message)
}

describe('CLI argument parsing', () => {
  test('integers are decimal digits only and respect the minimum', () => {
    assert.equal(parseInteger('42', '--count', 1), 42)
    assert.throws(
      () => parseInteger('0', '--partitions', 1),
      invalid(/--partitions must be an integer >= 1, got "0"/),
    )
    assert.throws(() => parseInteger('1e3', '--count'), invalid(/--count/))
    assert.throws(() => parseInteger('-1', '--count'), invalid(/--count/))
  })

  test('a config without "=" is rejected with the offending text', () => {
    assert.deepEqual(parseConfigs(['retention.ms=1000', 'cleanup.policy=compact']), {
      'retention.ms': '1000',
      'cleanup.policy': 'compact',
    })
    assert.throws(() => parseConfigs(['retention.ms']), invalid(/--config "retention.ms" has no "="/))
    assert.throws(() => parseConfigs(['=5']), invalid(/empty name/))
    assert.throws(() => parseConfigs(['a=1', 'a=2']), invalid(/given twice/))
  })

  test('headers keep their order and allow an empty value', () => {
    const headers = parseHeaders(['source=cli', 'empty=', 'source=again'])
    assert.deepEqual(
      headers.map(([k, v]) => [k, v.toString()]),
      [
        ['source', 'cli'],
        ['empty', ''],
        ['source', 'again'],
      ],
    )
  })

  test('acks accept 0, 1, all and -1', () => {
    assert.equal(parseAcks('0'), 0)
    assert.equal(parseAcks('1'), 1)
    assert.equal(parseAcks('all'), 'all')
    assert.equal(parseAcks('-1'), 'all')
    assert.throws(() => parseAcks('2'), invalid(/--acks must be 0, 1 or all/))
  })

  test('--from tells offsets, ISO times and epoch milliseconds apart', () => {
    assert.equal(parseFrom('beginning'), 'beginning')
    assert.equal(parseFrom('end'), 'end')
    assert.deepEqual(parseFrom('42'), { offset: 42 })
    assert.deepEqual(parseFrom('@1714564800000'), { timestamp: 1714564800000 })
    assert.deepEqual(parseFrom('2024-05-01T12:00:00Z'), { timestamp: Date.UTC(2024, 4, 1, 12) })
    assert.deepEqual(parseFrom('2024-05-01'), { timestamp: Date.UTC(2024, 4, 1) })
    assert.throws(
      () => parseFrom('yesterday'),
      invalid(/--from "yesterday" is not understood; use beginning, end/),
    )
    assert.throws(() => parseFrom('2024-13-45'), invalid(/not understood/))
    assert.throws(() => parseFrom('-0'), invalid(/--from -N \(the last N records\) must be an integer >= 1/))
    assert.throws(() => parseFrom('-5w'), invalid(/not understood.*a time ago \(-15m, -2h, -1d\)/))
  })

  test('--from -N is the last N records of each partition, and -15m, -2h, -1d are times ago', () => {
    const now = Date.UTC(2024, 4, 1, 12)
    assert.deepEqual(parseFrom('-5', now), { last: 5 })
    assert.deepEqual(parseFrom('-15m', now), { timestamp: now - 15 * 60_000 })
    assert.deepEqual(parseFrom('-2h', now), { timestamp: now - 2 * 3_600_000 })
    assert.deepEqual(parseFrom('-1d', now), { timestamp: now - 86_400_000 })
    assert.deepEqual(parseFrom('-30s', now), { timestamp: now - 30_000 })
    assert.deepEqual(parseFrom('-500ms', now), { timestamp: now - 500 })
  })
})

describe('CLI line splitting', () => {
  async function lines(chunks: string[]): Promise<string[][]> {
    const out: string[][] = []
    for await (const batch of chunkedLines(Readable.from(chunks.map((c) => Buffer.from(c))))) {
      out.push(batch.map((b) => b.toString()))
    }
    return out
  }

  test('lines split across chunks are joined and CRLF is trimmed', async () => {
    assert.deepEqual(await lines(['a,1\nb,', '2\r\nc,3']), [['a,1'], ['b,2'], ['c,3']])
  })

  test('an empty line is a line and a trailing newline adds none', async () => {
    assert.deepEqual(await lines(['x\n\ny\n']), [['x', '', 'y']])
    assert.deepEqual(await lines([]), [])
  })
})

describe('CLI record output', () => {
  const record = (value: Buffer | null, key: Buffer | null = null): ConsumedRecord => ({
    topic: 't',
    partition: 1,
    offset: 7,
    timestamp: 1000,
    key,
    value,
    headers: [['h', Buffer.from([0xff, 0x00])]],
  })

  test('text prints the value bytes, with the key and a tab when asked', () => {
    assert.equal(formatRecord(record(Buffer.from('v')), { format: 'text' }).toString(), 'v\n')
    assert.equal(
      formatRecord(record(Buffer.from('v'), Buffer.from('k')), { format: 'text', printKey: true }).toString(),
      'k\tv\n',
    )
    assert.equal(formatRecord(record(null), { format: 'text', printKey: true }).toString(), 'null\tnull\n')
  })

  test('json uses UTF-8 strings and marks base64 where the bytes are not UTF-8', () => {
    const line = formatRecord(record(Buffer.from([0xc3, 0x28]), Buffer.from('clé')), {
      format: 'json',
    }).toString()
    assert.ok(line.endsWith('\n'))
    assert.deepEqual(JSON.parse(line), {
      topic: 't',
      partition: 1,
      offset: 7,
      timestamp: 1000,
      key: 'clé',
      value: 'wyg=',
      valueEncoding: 'base64',
      headers: [{ key: 'h', value: '/wA=', encoding: 'base64' }],
    })
    assert.equal(envelope(record(null)).value, null)
  })

  test('tables align columns without trailing spaces', () => {
    assert.equal(formatTable(['A', 'BB'], [['long', 'x']]), 'A     BB\nlong  x\n')
  })
})
