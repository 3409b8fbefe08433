/** The kcat habits of the CLI, against Apache Kafka: last N, times ago, format strings, tombstones, fixed keys. */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { openTransport } from '../../src/transport/index.js'
import type { Transport } from '../../src/transport/types.js'
import { testBroker, testSaslBroker } from '../helpers/broker.js'
import { readTopic, runCli, uniqueTopic } from './helpers.js'

const broker = testBroker()

describe(`kcat habits against Apache Kafka at ${broker}`, () => {
  let transport: Transport
  const cli = (args: string[], input?: string) => runCli(['--broker', broker, ...args], input)

  before(() => {
    transport = openTransport(broker)
  })
  after(async () => {
    await transport.close()
  })

  test('tombstones and fixed keys go in; the last N per partition and a format string come out', async () => {
    const topic = uniqueTopic('kcat')
    await transport.admin().createTopics([{ topic, partitions: 1, configs: { 'cleanup.policy': 'compact' } }])
    const keyed = await cli(['produce', topic, '-K', ':', '-Z'], 'v1:10\nv2:20\nv1:\n')
    assert.equal(keyed.code, 0, keyed.stderr)
    const fixed = await cli(['produce', topic, '-k', 'v3'], 'a\nb\n')
    assert.equal(fixed.code, 0, fixed.stderr)
    const tomb = await cli(['send', topic, '--null', '-k', 'v2'])
    assert.equal(tomb.code, 0, tomb.stderr)

    const records = await readTopic(transport, topic)
    assert.deepEqual(
      records.map((r) => [r.key?.toString(), r.value?.toString() ?? null]),
      [
        ['v1', '10'],
        ['v2', '20'],
        ['v1', null],
        ['v3', 'a'],
        ['v3', 'b'],
        ['v2', null],
      ],
    )

    const last = await cli([
      'consume',
      topic,
      '--from',
      '-3',
      '--exit-at-end',
      '--format',
      '%t %p@%o %k=%s %S\\n',
    ])
    assert.equal(last.code, 0, last.stderr)
    assert.equal(last.stdout, `${topic} 0@3 v3=a 1\n${topic} 0@4 v3=b 1\n${topic} 0@5 v2= -1\n`)

    const recent = await cli(['consume', topic, '--from', '-1h', '--exit-at-end', '--format', '%o,'])
    assert.equal(recent.code, 0, recent.stderr)
    assert.equal(recent.stdout, '0,1,2,3,4,5,')
  })

  test('flags that contradict each other are refused by name', async () => {
    const topic = uniqueTopic('kcat-bad')
    await transport.admin().createTopics([{ topic, partitions: 1 }])
    const both = await cli(['produce', topic, '-k', 'a', '-K', ':'], 'x\n')
    assert.equal(both.code, 1)
    assert.match(both.stderr, /--key gives every record the same key and --key-delimiter .*give one of them/)
    const nullAndValue = await cli(['send', topic, 'v', '--null'])
    assert.equal(nullAndValue.code, 1)
    assert.match(nullAndValue.stderr, /--null sends no value, and a value was given \("v"\)/)
    const noValue = await cli(['send', topic])
    assert.equal(noValue.code, 1)
    assert.match(noValue.stderr, /Give the value to send, or --null for a tombstone/)
  })

  test('list and describe speak JSON, --long and --all show offsets, leaders and every config with its source', async () => {
    const topic = uniqueTopic('kcat-json')
    await transport.admin().createTopics([{ topic, partitions: 2, configs: { 'retention.ms': '3600000' } }])
    const producer = transport.producer()
    await producer.send([0, 1, 1].map((partition) => ({ topic, partition, value: 'x' })))
    await producer.close()

    const names = await cli(['topics', 'list', '--json'])
    assert.equal(names.code, 0, names.stderr)
    assert.ok((JSON.parse(names.stdout) as string[]).includes(topic))
    const long = await cli(['topics', 'list', '--long', '--json'])
    const row = (JSON.parse(long.stdout) as Array<{ topic: string }>).find((t) => t.topic === topic)
    assert.deepEqual(row, { topic, partitions: 2, replicationFactor: 1, leaders: [1], records: 3 })
    const table = await cli(['topics', 'list', '--long'])
    assert.match(table.stdout, /^TOPIC +PARTITIONS +REPLICATION +LEADERS +RECORDS\n/)
    assert.match(table.stdout, new RegExp(`\\n${topic} +2 +1 +1 +3\\n`))

    const all = await cli(['topics', 'describe', topic, '--all'])
    assert.equal(all.code, 0, all.stderr)
    assert.match(all.stdout, /\nretention\.ms +3600000 +topic\n/)
    assert.match(all.stdout, /\ncleanup\.policy +delete +(default|static-broker)\n/)
    const json = await cli(['topics', 'describe', topic, '--json'])
    const [described] = JSON.parse(json.stdout) as Array<{
      topic: string
      partitions: unknown[]
      configs: Array<{ name: string; source: string }>
    }>
    assert.equal(described?.partitions.length, 2)
    assert.deepEqual(
      described?.configs.map((c) => [c.name, c.source]),
      [['retention.ms', 'topic']],
    )

    const group = `kcat-${topic}`
    await transport.admin().alterGroupOffsets(group, [{ topic, partition: 1, offset: 1 }])
    const groups = await cli(['groups', 'list', '--json'])
    assert.ok((JSON.parse(groups.stdout) as Array<{ groupId: string }>).some((g) => g.groupId === group))
    const lag = await cli(['groups', 'describe', group, '--json'])
    const parsed = JSON.parse(lag.stdout) as {
      state: string
      totalLag: number
      partitions: Array<{ partition: number; lag: number | null }>
    }
    assert.equal(parsed.state, 'Empty')
    assert.equal(parsed.totalLag, 1)
    assert.deepEqual(
      parsed.partitions.map((p) => [p.partition, p.lag]),
      [
        [0, null],
        [1, 1],
      ],
    )
  })

  test('-X takes the client properties of a client.properties file, and an unknown one is refused by name', async () => {
    const sasl = testSaslBroker()
    if (sasl !== undefined) {
      const bare = new URL(sasl.replace(/^kafka:/, 'http:'))
      const listed = await runCli([
        '--broker',
        `kafka://${bare.host}`,
        '-X',
        'security.protocol=SASL_PLAINTEXT',
        '-X',
        `sasl.mechanism=${bare.searchParams.get('sasl') ?? 'SCRAM-SHA-256'}`,
        '-X',
        `sasl.username=${decodeURIComponent(bare.username)}`,
        '-X',
        `sasl.password=${decodeURIComponent(bare.password)}`,
        'topics',
        'list',
      ])
      assert.equal(listed.code, 0, listed.stderr)
      // Without the SASL settings, that listener takes the connection and never answers.
      const plain = await runCli(['--broker', `kafka://${bare.host}`, '--timeout', '8000', 'topics', 'list'])
      assert.equal(plain.code, 1)
      assert.match(
        plain.stderr,
        /may be a listener that needs SASL \(--sasl-mechanism and --sasl-username.* or TLS \(--tls/,
      )
    }
    const refused = await runCli(['--broker', 'kafka://127.0.0.1:1', 'topics', 'list'])
    assert.match(refused.stderr, /no broker answered at 127\.0\.0\.1:1 \(ECONNREFUSED\)\n/)
    const typo = await cli(['-X', 'sasl.usrname=x', 'topics', 'list'])
    assert.equal(typo.code, 1)
    assert.match(
      typo.stderr,
      /-X client setting "sasl\.usrname" is not known\. Did you mean "sasl\.username"\?/,
    )
  })
})
