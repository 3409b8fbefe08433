/** The CLI as users run it: a child process against the real Apache Kafka broker (TRIBUTARY_TEST_BROKER). */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { openTransport } from '../../src/transport/index.js'
import type { Transport } from '../../src/transport/types.js'
import { testBroker, testSaslBroker } from '../helpers/broker.js'
import { readTopic, runCli, startCli, uniqueTopic } from './helpers.js'

const broker = testBroker()

/** `groups describe` rows of one topic as {partition, committed, logEnd, lag}, and the total line. */
function parseDescribe(text: string, topic: string) {
  const rows = text
    .split('\n')
    .map((line) => line.split(/\s+/))
    .filter((cells) => cells[0] === topic)
    .map(([, partition, committed, logEnd, lag]) => ({
      partition: Number(partition),
      committed,
      logEnd,
      lag,
    }))
  const total = Number(/Total lag: (\d+)/.exec(text)?.[1])
  return { rows, total }
}

describe(`tributary CLI against Apache Kafka at ${broker}`, () => {
  let transport: Transport
  let dir: string
  const cli = (...args: string[]) => runCli(['--broker', broker, ...args])

  before(async () => {
    transport = openTransport(broker)
    dir = await mkdtemp(join(tmpdir(), 'tributary-cli-'))
  })
  after(async () => {
    await transport.close()
  })

  test('10,000 keyed lines go in from a file, come out in a group, and the group lag follows', async () => {
    const topic = uniqueTopic('cli-accept')
    const group = `cli-accept-${randomUUID().slice(0, 8)}`
    const created = await cli('topics', 'create', topic, '--partitions', '3', '--replication-factor', '1')
    assert.equal(created.code, 0, created.stderr)

    const file = join(dir, 'rides.csv')
    writeFileSync(file, Array.from({ length: 10_000 }, (_, i) => `vendor-${i % 97},ride-${i}\n`).join(''))
    const produced = await cli('produce', topic, '--file', file, '--key-delimiter', ',')
    assert.equal(produced.code, 0, produced.stderr)
    assert.match(
      produced.stderr,
      new RegExp(`Produced 10000 records to ${topic} in [\\d.]+ s \\(\\d+ rec/s\\)`),
    )

    const consumed = await cli('consume', topic, '--group', group, '--from', 'beginning', '--count', '10000')
    assert.equal(consumed.code, 0, consumed.stderr)
    const values = consumed.stdout.split('\n').filter(Boolean)
    assert.equal(values.length, 10_000)
    assert.equal(new Set(values).size, 10_000)
    assert.ok(values.every((v) => /^ride-\d+$/.test(v)))

    const described = await cli('groups', 'describe', group)
    assert.equal(described.code, 0, described.stderr)
    const caughtUp = parseDescribe(described.stdout, topic)
    assert.deepEqual(
      caughtUp.rows.map((r) => [r.partition, r.lag]),
      [
        [0, '0'],
        [1, '0'],
        [2, '0'],
      ],
      described.stdout,
    )
    assert.equal(caughtUp.total, 0)

    const more = Array.from({ length: 100 }, (_, i) => `vendor-${i},late-${i}`).join('\n') + '\n'
    const producedMore = await runCli(['--broker', broker, 'produce', topic, '--key-delimiter', ','], more)
    assert.equal(producedMore.code, 0, producedMore.stderr)
    const behind = parseDescribe((await cli('groups', 'describe', group)).stdout, topic)
    assert.equal(behind.total, 100)
    assert.equal(
      behind.rows.reduce((sum, r) => sum + Number(r.lag), 0),
      100,
    )

    // --exit-at-end in a new group reads everything that was there at start, then stops.
    const toEnd = await cli(
      'consume',
      topic,
      '--group',
      `${group}-end`,
      '--from',
      'beginning',
      '--exit-at-end',
    )
    assert.equal(toEnd.code, 0, toEnd.stderr)
    assert.equal(toEnd.stdout.split('\n').filter(Boolean).length, 10_100)
  })

  // The bounds below tell a command that gives up (after its 12 s --timeout) from one that hangs;
  // four CLI processes start at once, so on a busy 2-core machine their start-up alone takes seconds.
  test('an unreachable broker fails every kind of command within 25 s, naming the address', async () => {
    const address = 'kafka://127.0.0.1:1'
    const results = await Promise.all([
      runCli(['--broker', address, 'topics', 'list']),
      runCli(['--broker', address, 'produce', 'any'], 'a\n'),
      runCli(['--broker', address, 'consume', 'any']),
      runCli(['--broker', address, 'groups', 'describe', 'any']),
    ])
    for (const result of results) {
      assert.equal(result.code, 1, result.stderr)
      assert.ok(result.ms < 25_000, `took ${result.ms} ms`)
      assert.match(result.stderr, /^error: .*127\.0\.0\.1:1\b/m)
    }
  })

  test('memory:// is refused with the reason and a request for a Kafka address', async () => {
    const result = await runCli(['--broker', 'memory://app', 'topics', 'list'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^error: .*embedded broker.*inside one process.*kafka:\/\/host:port/)
  })

  test('Ctrl-C during a produce from a large stdin reports the counts, and every record reported delivered is in the topic', async () => {
    const topic = uniqueTopic('cli-sigint')
    await transport.admin().createTopics([{ topic, partitions: 1 }])
    const { child, done } = startCli(['--broker', broker, 'produce', topic])
    child.stdin?.on('error', () => undefined)
    let next = 0
    let writing = true
    const feed = (): void => {
      while (writing && next < 5_000_000) {
        if (!child.stdin?.write(`${next++}\n`)) return void child.stdin?.once('drain', feed)
      }
    }
    feed()
    const admin = transport.admin()
    const deadline = Date.now() + 30_000
    while ((await admin.listOffsets(topic, 'latest'))[0]!.offset < 1000 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
    }
    child.kill('SIGINT')
    const result = await done
    writing = false
    assert.equal(result.code, 130, result.stderr)
    const match = /Interrupted: (\d+) records delivered to \S+, (\d+) not delivered/.exec(result.stderr)
    assert.ok(match, result.stderr)
    const delivered = Number(match[1])
    assert.equal(Number(match[2]), 0)
    assert.ok(delivered >= 1000)
    const values = (await readTopic(transport, topic)).map((r) => Number(r.value?.toString()))
    assert.equal(values.length, delivered)
    assert.deepEqual(
      values,
      Array.from({ length: delivered }, (_, i) => i),
    )
  })

  test('errors say what was wrong: a line without the key delimiter, an unknown config, an unknown topic', async () => {
    const topic = uniqueTopic('cli-errors')
    assert.equal((await cli('topics', 'create', topic)).code, 0)

    const badLine = await runCli(
      ['--broker', broker, 'produce', topic, '--key-delimiter', ','],
      'a,1\nb,2\nthree\n',
    )
    assert.equal(badLine.code, 1)
    assert.match(badLine.stderr, /^error: Line 3 has no key delimiter ","/m)

    const badConfig = await cli('topics', 'create', uniqueTopic('cli-bad'), '--config', 'retention.msx=5')
    assert.equal(badConfig.code, 1)
    assert.match(badConfig.stderr, /^error: .*retention\.msx/m)

    const noEquals = await cli('topics', 'create', uniqueTopic('cli-bad'), '--config', 'retention.ms')
    assert.equal(noEquals.code, 1)
    assert.match(noEquals.stderr, /^error: --config "retention\.ms" has no "="/m)

    const missing = uniqueTopic('cli-missing')
    for (const args of [
      ['consume', missing],
      ['topics', 'describe', missing],
    ]) {
      const result = await cli(...args)
      assert.equal(result.code, 1)
      assert.match(result.stderr, new RegExp(`^error: .*${missing}`, 'm'))
    }

    const badFrom = await cli('consume', topic, '--from', 'tomorrow')
    assert.equal(badFrom.code, 1)
    assert.match(badFrom.stderr, /^error: --from "tomorrow" is not understood/m)
  })

  test('--exit-at-end stops after a transactional tail under read_committed, whose last offset is a marker', async () => {
    const topic = uniqueTopic('cli-txn')
    await transport.admin().createTopics([{ topic, partitions: 1 }])
    const producer = transport.producer({ transactionalId: `cli-txn-${randomUUID()}` })
    try {
      const transaction = await producer.beginTransaction()
      await transaction.send([1, 2, 3].map((i) => ({ topic, value: Buffer.from(`t${i}`) })))
      await transaction.commit()
    } finally {
      await producer.close()
    }
    const args = ['consume', topic, '--from', 'beginning', '--exit-at-end', '--isolation', 'read_committed']
    const result = await cli(...args)
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(result.stdout.split('\n').filter(Boolean), ['t1', 't2', 't3'])
    // Stopping at the end, not hanging on the marker: well under the 30 s the test would otherwise take.
    assert.ok(result.ms < 20_000, `took ${result.ms} ms`)
  })

  test('SASL through the flags, with the password from TRIBUTARY_SASL_PASSWORD', async (t) => {
    const sasl = testSaslBroker()
    if (sasl === undefined) return t.skip('no SASL listener given (TRIBUTARY_TEST_SASL_BROKER)')
    const url = new URL(sasl.replace(/^kafka:/, 'http:'))
    const args = [
      '--broker',
      url.host,
      '--sasl-mechanism',
      'SCRAM-SHA-256',
      '--sasl-username',
      url.username,
      'groups',
      'list',
    ]
    const ok = await runCli(args, '', { TRIBUTARY_SASL_PASSWORD: decodeURIComponent(url.password) })
    assert.equal(ok.code, 0, ok.stderr)
    const refused = await runCli(args, '', { TRIBUTARY_SASL_PASSWORD: 'not-the-password' })
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /^error: .*[Aa]uthentication/m)
  })

  test('--help of every command shows examples', async () => {
    for (const args of [[], ['topics', 'create'], ['produce'], ['consume'], ['groups', 'describe']]) {
      const result = await runCli([...args, '--help'])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /Examples:\n {2}\$ tributary /)
    }
  })
})
