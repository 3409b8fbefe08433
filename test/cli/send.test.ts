import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { run } from '../../src/cli/main.js'
import { openTransport } from '../../src/transport/index.js'
import type { Transport } from '../../src/transport/types.js'
import { testBroker } from '../helpers/broker.js'
import { Collector, repo, uniqueTopic } from './helpers.js'

const broker = testBroker()
const taxi = join(repo, 'test/cli/fixtures/taxi.ts')
// The fixture app names its topics after this prefix (it reads the variable when loaded).
const prefix = `send-${randomUUID().slice(0, 8)}-`
process.env.TAXI_TOPIC_PREFIX = prefix
delete process.env.TAXI_BROKER
delete process.env.TRIBUTARY_BROKER

async function cli(...args: string[]) {
  const stdout = new Collector()
  const stderr = new Collector()
  const code = await run(['node', 'tributary', ...args], { stdin: Readable.from([]), stdout, stderr })
  return { code, stdout: stdout.text(), stderr: stderr.text() }
}

interface Envelope {
  partition: number
  offset: number
  key: string | null
  value: string
  headers: Array<{ key: string; value: string }>
}

/** `consume --format json` of the whole topic, through the CLI. */
async function consumeAll(topic: string): Promise<Envelope[]> {
  const result = await cli(
    '--broker',
    broker,
    'consume',
    topic,
    '--from',
    'beginning',
    '--exit-at-end',
    '--format',
    'json',
  )
  assert.equal(result.code, 0, result.stderr)
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Envelope)
}

function sentAt(stdout: string, topic: string): { partition: number; offset: number } {
  const match = new RegExp(`^Sent to ${topic} partition (\\d+) offset (\\d+)\\n$`).exec(stdout)
  assert.ok(match, stdout)
  return { partition: Number(match[1]), offset: Number(match[2]) }
}

describe(`tributary send against Apache Kafka at ${broker}`, () => {
  let transport: Transport

  before(async () => {
    transport = openTransport(broker)
    await transport.admin().createTopics([{ topic: `${prefix}rides`, partitions: 2 }])
  })

  after(async () => {
    await transport.close()
  })

  test('a value sent without an app comes back from consume as the same text, key and headers, where send said', async () => {
    const topic = uniqueTopic('send-plain')
    await transport.admin().createTopics([{ topic, partitions: 3 }])
    const first = await cli(
      '--broker',
      broker,
      'send',
      topic,
      'héllo wörld',
      '-k',
      'greeting',
      '-H',
      'source=cli',
    )
    assert.equal(first.code, 0, first.stderr)
    const second = await cli('--broker', broker, 'send', topic, '{"not": "parsed"}', '--partition', '2')
    assert.equal(second.code, 0, second.stderr)
    assert.equal(sentAt(second.stdout, topic).partition, 2)
    const records = await consumeAll(topic)
    assert.equal(records.length, 2)
    const at = (r: Envelope | undefined) => ({ partition: r?.partition, offset: r?.offset })
    const greeting = records.find((r) => r.key === 'greeting')
    assert.deepEqual(at(greeting), sentAt(first.stdout, topic))
    assert.equal(greeting?.value, 'héllo wörld')
    assert.deepEqual(greeting?.headers, [{ key: 'source', value: 'cli' }])
    const unkeyed = records.find((r) => r.key === null)
    assert.deepEqual(at(unkeyed), sentAt(second.stdout, topic))
    assert.equal(unkeyed?.value, '{"not": "parsed"}')
  })

  test("with --app the value is encoded with the topic's json codec, and @agent sends to the agent's topic", async () => {
    const topic = `${prefix}rides`
    const byName = await cli(
      '--broker',
      broker,
      'send',
      topic,
      '{ "vendor": "v1",  "fare": 12.5 }',
      '-k',
      'r1',
      '--app',
      taxi,
    )
    assert.equal(byName.code, 0, byName.stderr)
    const toAgent = await cli(
      '--broker',
      broker,
      'send',
      '@big-rides',
      '{"fare": 40, "vendor": "v2"}',
      '-k',
      'r2',
      '--app',
      taxi,
    )
    assert.equal(toAgent.code, 0, toAgent.stderr)
    const records = await consumeAll(topic)
    const values = new Map(records.map((r) => [r.key, r]))
    // Parsed and re-encoded by the json codec: the spacing of the argument is gone, the order kept.
    assert.equal(values.get('r1')?.value, '{"vendor":"v1","fare":12.5}')
    assert.equal(values.get('r2')?.value, '{"fare":40,"vendor":"v2"}')
    const r2 = values.get('r2')!
    assert.deepEqual({ partition: r2.partition, offset: r2.offset }, sentAt(toAgent.stdout, topic))
  })

  test('a value that is not JSON for a json codec is refused before any connection', async () => {
    // Port 1: nothing listens, so a connection attempt would fail with another message.
    const result = await cli(
      '--broker',
      'kafka://127.0.0.1:1',
      'send',
      `${prefix}rides`,
      'not json',
      '--app',
      taxi,
    )
    assert.equal(result.code, 1)
    assert.match(
      result.stderr,
      new RegExp(
        `^error: The value is not JSON, and topic "${prefix}rides" has value codec json: .*not valid JSON`,
      ),
    )
  })

  test('memory://, an agent without --app, and unknown targets of an app are refused with exit 1', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--broker', 'memory://app', 'send', 't', 'v'], /"memory:\/\/app" is the embedded broker/],
      // The fixture's own broker is memory://taxi: without --broker, send --app would use it.
      [['send', `${prefix}rides`, '{}', '--app', taxi], /"memory:\/\/taxi" is the embedded broker/],
      [['--broker', broker, 'send', '@big-rides', '{}'], /"@big-rides" names an agent: give --app <module>/],
      [
        ['--broker', broker, 'send', '@nobody', '{}', '--app', taxi],
        /App "taxi" has no agent "nobody" \(its agents: big-rides, by-vendor\)/,
      ],
      [
        ['--broker', broker, 'send', 'elsewhere', '{}', '--app', taxi],
        /App "taxi" declares no topic "elsewhere"/,
      ],
      [['--broker', broker, 'send', uniqueTopic('absent'), 'v'], /Topic "absent-[0-9a-f]+" does not exist/],
    ]
    for (const [args, message] of cases) {
      const result = await cli(...args)
      assert.equal(result.code, 1, args.join(' '))
      assert.match(result.stderr, new RegExp(`^error: ${message.source}`), args.join(' '))
      assert.equal(result.stdout, '')
    }
  })
})
