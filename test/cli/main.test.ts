import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, test } from 'node:test'
import { run } from '../../src/cli/main.js'
import { Collector } from './helpers.js'

async function cli(...args: string[]) {
  const stdout = new Collector()
  const stderr = new Collector()
  const code = await run(['node', 'tributary', ...args], { stdin: Readable.from([]), stdout, stderr })
  return { code, stdout: stdout.text(), stderr: stderr.text() }
}

describe('tributary command line, in process', () => {
  test('memory:// is refused for every command, with the reason', async () => {
    for (const args of [
      ['topics', 'list'],
      ['produce', 't'],
      ['consume', 't'],
      ['groups', 'list'],
    ]) {
      const result = await cli('--broker', 'memory://app', ...args)
      assert.equal(result.code, 1)
      assert.match(
        result.stderr,
        /^error: "memory:\/\/app" is the embedded broker, which lives inside one process/,
      )
      assert.match(result.stderr, /--broker kafka:\/\/host:port/)
    }
  })

  test('malformed values fail with exit 1 before any connection', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['topics', 'create', 't', '--partitions', '0'], /--partitions must be an integer >= 1, got "0"/],
      [['topics', 'create', 't', '--config', 'retention.ms'], /--config "retention\.ms" has no "="/],
      [['consume', 't', '--from', 'soon'], /--from "soon" is not understood/],
      [['produce', 't', '--acks', '2'], /--acks must be 0, 1 or all/],
      [['--broker', 'http://x:1', 'topics', 'list'], /Unknown broker URL scheme/],
      [
        ['--broker', 'kafka://x:1', '--sasl-mechanism', 'PLAIN', 'topics', 'list'],
        /SASL PLAIN needs a user name/,
      ],
    ]
    for (const [args, message] of cases) {
      const result = await cli('--broker', 'kafka://127.0.0.1:1', ...args)
      assert.equal(result.code, 1, args.join(' '))
      assert.match(result.stderr, new RegExp(`^error: ${message.source}`), args.join(' '))
    }
  })

  test('an unknown command and a missing argument are reported by the parser with exit 1', async () => {
    const unknown = await cli('topic', 'list')
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /error: unknown command 'topic'/)
    const missing = await cli('produce')
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /error: missing required argument 'topic'/)
  })

  test('help lists the commands and the broker default, and exits 0', async () => {
    const result = await cli('--help')
    assert.equal(result.code, 0)
    for (const word of [
      'topics',
      'produce',
      'consume',
      'groups',
      'TRIBUTARY_BROKER',
      'kafka://localhost:9092',
    ]) {
      assert.ok(result.stdout.includes(word), word)
    }
  })
})
