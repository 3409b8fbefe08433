/**
 * Tables: counting records per key into a table (10,000 keys), and restoring a table from its
 * changelog, as Tributary tables (memory:// and lmdb:// stores) and as Kafka Streams 4.1
 * `groupByKey().count()` (in-memory and RocksDB stores, bench/peers/kafka-streams), on the same broker
 * in the same run. Counting runs at-least-once and exactly-once; restoring at-least-once. Goal: at or
 * above Kafka Streams, store kind for store kind.
 *
 *   npm run bench -- tables [--records 500000] [--keys 10000] [--restore-records 300000]
 *                           [--rounds 5] [--warmup 1] [--only TEXT]
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { App, string } from '../src/index.js'
import { openTransport } from '../src/transport/index.js'
import { partitionForKey } from '../src/transport/partitioner.js'
import type { ProducerRecord, Transport } from '../src/transport/types.js'
import { benchArgs } from './lib/args.js'
import { KafkaStreamsPeer } from './lib/kafka-streams.js'
import { Observer } from './lib/observer-client.js'
import { progress } from './lib/progress.js'
import { benchEnvironment, type Report } from './lib/report.js'
import { runCase, type Run, type Started, type Subject } from './lib/rounds.js'
import { topicReady } from './lib/watch.js'

const PARTITIONS = 6
const COMMIT_INTERVAL_MS = 100
type Guarantee = 'at_least_once' | 'exactly_once'
type StoreKind = 'memory' | 'persistent'

const OURS: Record<StoreKind, string> = { memory: 'tributary memory://', persistent: 'tributary lmdb://' }
const STREAMS: Record<StoreKind, string> = {
  memory: 'Kafka Streams 4.1 in-memory',
  persistent: 'Kafka Streams 4.1 RocksDB',
}

interface TableRun extends Run {
  /** The topic the application reads; its group (application id) commits offsets of it. */
  input: string
  /** The application id, of this run only: the group and the changelog's prefix. */
  group: string
  /** `<group>-counts-changelog`, the changelog of both frameworks' store "counts". */
  changelog: string
  /** The local state directory of a Tributary run (removed after it). */
  stateDir: string
}

/** The Tributary counter: a table of counts per key, updated in place by the agent for each record. */
function tributary(url: string, store: StoreKind, guarantee: Guarantee): Subject<TableRun> {
  return {
    name: OURS[store],
    start(run): Started {
      const app = new App({
        id: run.group,
        broker: url,
        web: false,
        store: store === 'memory' ? 'memory://' : 'lmdb://',
        stateDir: run.stateDir,
        processingGuarantee: guarantee,
        commitIntervalMs: COMMIT_INTERVAL_MS,
        log: (level, message) => {
          if (level === 'error') console.error(`  [tributary] ${message}`)
        },
      })
      const input = app.topic(run.input, { key: string, value: string })
      const counts = app.table<string | null, number>('counts', { default: 0 })
      app.agent(
        'count',
        input,
        async (stream) => {
          for await (const event of stream) counts.update(event.key, (n) => n + 1)
        },
        { tables: [counts] },
      )
      const started = app.start()
      return {
        running: started.then((worker) => worker.done),
        stop: async () => {
          await started.catch(() => undefined)
          await app.stop()
          rmSync(run.stateDir, { recursive: true, force: true })
        },
      }
    },
  }
}

function kafkaStreams(peer: KafkaStreamsPeer, store: StoreKind, guarantee: Guarantee): Subject<TableRun> {
  return {
    name: STREAMS[store],
    start: (run) => {
      const started = peer.count(run.group, run.input, guarantee, store === 'memory' ? 'memory' : 'rocksdb')
      return {
        running: started.running,
        stop: async () => {
          await started.stop()
          rmSync(run.stateDir, { recursive: true, force: true })
        },
      }
    },
    cpuSeconds: () => peer.cpuSeconds(),
  }
}

const isOurs = (subject: Subject<TableRun>): boolean => subject.name.startsWith('tributary')

/** A key of every partition, by the default partitioner (both frameworks' tasks own them there). */
function keyPerPartition(): string[] {
  const keys = new Map<number, string>()
  for (let i = 0; keys.size < PARTITIONS; i++) {
    const key = `marker-${i}`
    const p = partitionForKey(Buffer.from(key), PARTITIONS)
    if (!keys.has(p)) keys.set(p, key)
  }
  return Array.from({ length: PARTITIONS }, (_, p) => keys.get(p)!)
}

async function send(
  transport: Transport,
  label: string,
  total: number,
  make: (i: number) => ProducerRecord,
): Promise<void> {
  const producer = transport.producer()
  const bar = progress(label, total)
  try {
    for (let start = 0; start < total; start += 10_000) {
      const batch: ProducerRecord[] = []
      for (let i = start; i < Math.min(total, start + 10_000); i++) batch.push(make(i))
      await producer.send(batch)
      bar.add(batch.length)
    }
  } finally {
    bar.done()
    await producer.close()
  }
}

/** A count as each framework's changelog holds it: JSON (Tributary's default value codec), or a big-endian long. */
function encodeCount(ours: boolean, n: number): Buffer {
  if (ours) return Buffer.from(JSON.stringify(n))
  const bytes = Buffer.alloc(8)
  bytes.writeBigInt64BE(BigInt(n))
  return bytes
}

function decodeCount(ours: boolean, value: Buffer): number {
  return ours ? (JSON.parse(value.toString()) as number) : Number(value.readBigInt64BE())
}

/**
 * The latest count per key in a changelog (read_committed: under exactly-once the aborted writes
 * are not counts). Untimed: the check that a run counted every record once.
 */
async function latestCounts(
  transport: Transport,
  topic: string,
  ours: boolean,
): Promise<Map<string, number>> {
  const isolationLevel = 'read_committed' as const
  const admin = transport.admin()
  // Kafka writes a transaction's markers after EndTxn answered (and the group's offsets may show
  // first): wait until no transaction is open, the last stable offsets at the log ends.
  let ends = await admin.listOffsets(topic, 'latest', { isolationLevel })
  for (const deadline = Date.now() + 30_000; ;) {
    const high = new Map((await admin.listOffsets(topic, 'latest')).map((o) => [o.partition, o.offset]))
    if (ends.every((o) => o.offset === high.get(o.partition))) break
    if (Date.now() > deadline) throw new Error(`${topic} still has an open transaction after 30 s`)
    await new Promise((resolve) => setTimeout(resolve, 50))
    ends = await admin.listOffsets(topic, 'latest', { isolationLevel })
  }
  const consumer = transport.consumer({ isolationLevel })
  const counts = new Map<string, number>()
  try {
    await consumer.assign(ends.map(({ partition }) => ({ topic, partition, from: 'earliest' as const })))
    const deadline = Date.now() + 120_000
    while (ends.some((e) => (consumer.position({ topic, partition: e.partition }) ?? 0) < e.offset)) {
      if (Date.now() > deadline) throw new Error(`${topic} was not read to its end in 120 s`)
      for (const r of await consumer.poll({ timeoutMs: 500, maxRecords: 20_000 }))
        if (r.key && r.value) counts.set(r.key.toString(), decodeCount(ours, r.value))
    }
    return counts
  } finally {
    await consumer.close()
  }
}

export default async function tablesBench(broker: string, argv: string[]): Promise<Report> {
  const args = benchArgs(argv, {
    records: 500_000,
    keys: 10_000,
    restoreRecords: 300_000,
    rounds: 5,
    warmup: 1,
    only: '',
  })
  const url = `kafka://${broker}`
  const transport = openTransport(url)
  const admin = transport.admin()
  const id = randomUUID().slice(0, 8)
  const input = `bench-tables-in-${id}`
  const markers = `bench-tables-markers-${id}`
  const topics = [input, markers]
  const groups: string[] = []
  const peer = await KafkaStreamsPeer.open(broker, 1)
  const observer = await Observer.open(broker)
  /** A fresh application id, state directory and (for restores: filled) changelog for one run. */
  const newRun = async (
    subject: Subject<TableRun>,
    source: string,
    restore: number,
  ): Promise<Omit<TableRun, 'observe' | 'expected'>> => {
    const group = `bench-tables-${isOurs(subject) ? 'tributary' : 'streams'}-${randomUUID().slice(0, 8)}`
    const changelog = `${group}-counts-changelog`
    groups.push(group)
    topics.push(changelog)
    const stateDir = mkdtempSync(join(tmpdir(), 'bench-tables-'))
    if (restore > 0) {
      await admin.createTopics([
        { topic: changelog, partitions: PARTITIONS, configs: { 'cleanup.policy': 'compact' } },
      ])
      await topicReady(admin, changelog, PARTITIONS)
      const ours = isOurs(subject)
      await send(transport, 'fill changelog', restore, (i) => ({
        topic: changelog,
        partition: i % PARTITIONS,
        key: Buffer.from(`k${i}`),
        value: encodeCount(ours, 1 + (i % 100)),
      }))
    }
    return { input: source, group, changelog, stateDir }
  }
  try {
    for (const topic of [input, markers]) {
      await admin.createTopics([{ topic, partitions: PARTITIONS }])
      await topicReady(admin, topic, PARTITIONS)
    }
    console.error(
      `Tables bench: count ${args.records.toLocaleString('en-US')} records over ${args.keys.toLocaleString('en-US')} keys, ` +
        `restore ${args.restoreRecords.toLocaleString('en-US')} changelog records; ${PARTITIONS} partitions, ` +
        `${args.warmup} warm-up + ${args.rounds} measured rounds, broker ${broker}`,
    )
    await send(transport, 'fill input', args.records, (i) => ({
      topic: input,
      key: Buffer.from(`k${i % args.keys}`),
      value: Buffer.from('1'),
    }))
    const perKey = (k: number): number =>
      Math.floor(args.records / args.keys) + (k < args.records % args.keys ? 1 : 0)
    const marker = keyPerPartition()
    await send(transport, 'fill markers', PARTITIONS, (p) => ({
      topic: markers,
      key: Buffer.from(marker[p]!),
      value: Buffer.from('1'),
    }))

    const counting = async (guarantee: Guarantee) =>
      runCase<TableRun>(
        {
          name: `count, ${guarantee.replaceAll('_', '-')}`,
          records: args.records,
          subjects: [
            tributary(url, 'memory', guarantee),
            kafkaStreams(peer, 'memory', guarantee),
            tributary(url, 'persistent', guarantee),
            kafkaStreams(peer, 'persistent', guarantee),
          ],
          prepare: async (subject) => {
            const run = await newRun(subject, input, 0)
            return {
              ...run,
              observe: { kind: 'committed', group: run.group, topic: input },
              expected: args.records,
              verify: async () => {
                const counts = await latestCounts(transport, run.changelog, isOurs(subject))
                if (counts.size !== args.keys)
                  throw new Error(`${subject.name}: ${counts.size} keys counted, ${args.keys} expected`)
                for (const [key, n] of counts)
                  if (n !== perKey(Number(key.slice(1))))
                    throw new Error(
                      `${subject.name}: ${key} counted ${n}, expected ${perKey(Number(key.slice(1)))}`,
                    )
              },
            }
          },
        },
        { ...args, observer },
      )
    const alo = await counting('at_least_once')
    const eos = await counting('exactly_once')
    const restore = await runCase<TableRun>(
      {
        name: 'restore',
        records: args.restoreRecords,
        subjects: [
          tributary(url, 'memory', 'at_least_once'),
          kafkaStreams(peer, 'memory', 'at_least_once'),
          tributary(url, 'persistent', 'at_least_once'),
          kafkaStreams(peer, 'persistent', 'at_least_once'),
        ],
        prepare: async (subject) => {
          const run = await newRun(subject, markers, args.restoreRecords)
          // Done once a marker of every partition is committed: each task restored its store first.
          return {
            ...run,
            observe: { kind: 'committed', group: run.group, topic: markers },
            expected: PARTITIONS,
            verify: async () => {
              const counts = await latestCounts(transport, run.changelog, isOurs(subject))
              for (const key of marker)
                if (counts.get(key) !== 1)
                  throw new Error(`${subject.name}: marker ${key} counted ${counts.get(key)}`)
            },
          }
        },
      },
      { ...args, observer },
    )
    const comparisons = [alo, eos, restore].flatMap((result) =>
      (['memory', 'persistent'] as const).map((store) => result.compare(STREAMS[store], OURS[store], 1.0)),
    )
    return {
      name: 'tables',
      date: new Date().toISOString(),
      environment: benchEnvironment({
        records: args.records,
        keys: args.keys,
        restoreRecords: args.restoreRecords,
        partitions: PARTITIONS,
        rounds: args.rounds,
        warmup: args.warmup,
        commitIntervalMs: COMMIT_INTERVAL_MS,
        kafkaStreamsThreads: 1,
        loadAverage1mPerRound: [...alo.load, ...eos.load, ...restore.load].join(' '),
      }),
      method: METHOD,
      baseline: STREAMS.persistent,
      measurements: [...alo.measurements, ...eos.measurements, ...restore.measurements],
      comparisons: comparisons.filter((c) => c !== undefined),
    }
  } finally {
    await peer.close().catch(() => undefined)
    await observer.close().catch(() => undefined)
    for (const group of groups) await admin.deleteGroup(group).catch(() => undefined)
    await admin.deleteTopics(topics).catch(() => undefined)
    await transport.close()
  }
}

const METHOD =
  'Count: the input (string keys over --keys keys) is filled once; each run is a fresh application id counting ' +
  'it into a fresh table / store "counts" (changelog <appId>-counts-changelog, cached, flushed at each 100 ms ' +
  'commit). Clock: from the subject start (in-process start call, or the command to the warm Kafka Streams JVM) ' +
  'until the group committed offsets of the input, polled every 20 ms by a separate observer process, reach the ' +
  'input record count; untimed after: the changelog read read_committed holds every key with its exact count. ' +
  'Restore: each run gets a fresh changelog filled with --restore-records records (distinct keys, in the ' +
  "framework's own value format) and an empty local state; the clock runs from the start until one marker record " +
  'of every partition of a second input is committed (each task restores its store before it processes one). ' +
  'One discarded warm-up round, then rounds with the subjects in rotated order; figure = median records/s.'
