/**
 * Transport throughput, like with like: batch producers against batch producers, group consumers
 * against group consumers, warm JVM tools against warm Node.js clients. Produce: our `kafka://`
 * producer and the raw @platformatic/kafka client each send 1000-record batches with one request in
 * flight; Kafka's ProducerPerformance runs with one request in flight and a batch.size that makes a
 * request of about 1000 records (six partition batches). Consume: each joins a fresh consumer group,
 * reads the same 100-byte records and commits. Ratios against the raw client, which our transport
 * must stay within 10% of.
 *
 *   npm run bench -- transport [--records 1000000] [--rounds 7] [--warmup 1]
 */
import { randomUUID } from 'node:crypto'
import {
  Consumer,
  FetchIsolationLevels,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
} from '@platformatic/kafka'
import { openTransport } from '../src/index.js'
import type { Admin } from '../src/transport/types.js'
import { benchArgs } from './lib/args.js'
import { KafkaTools } from './lib/kafka-tools.js'
import { progress } from './lib/progress.js'
import { benchEnvironment, type Report } from './lib/report.js'
import { runCase, type Run, type Started, type Subject } from './lib/rounds.js'
import { endOffsets, topicReady } from './lib/watch.js'
import { Observer } from './lib/observer-client.js'

const RAW = '@platformatic/kafka (raw)'
const RAW_FETCH = '@platformatic/kafka fetch loop (raw)'
const OURS = 'tributary kafka://'
const PRODUCER_PERF = 'Kafka ProducerPerformance (JVM)'
const CONSUMER_PERF = 'Kafka ConsumerPerformance (JVM)'
const PARTITIONS = 6
const BATCH = 1_000
const VALUE_BYTES = 100
/**
 * One batch in flight for both clients: @platformatic/kafka 1.35 numbers idempotent sequences when it
 * builds a request, so concurrent idempotent sends of the raw client lose records (our transport
 * serialises and merges them). Every produce run is checked to have stored all its records.
 */
const IN_FLIGHT = 1
/**
 * A 100-byte keyless value takes about 109 bytes in a v2 record batch (length, attributes, deltas,
 * key -1, value length, value, header count) after the 61-byte batch header: this batch.size holds
 * BATCH / PARTITIONS records, so a request (one batch per partition) carries about BATCH records.
 */
const JAVA_BATCH_BYTES = 61 + Math.ceil(BATCH / PARTITIONS) * 109
/** Our consumer's fetch settings (src/transport/kafka/options.ts), given to the raw client too. */
const FETCH = { maxWaitTime: 500, minBytes: 1, maxBytes: 50 * 1024 * 1024, maxBytesPerPartition: 1024 * 1024 }

interface ProduceRun extends Run {
  topic: string
}
interface ConsumeRun extends Run {
  topic: string
  group: string
}

/** Sends `total` records in batches of BATCH, one batch in flight, until done. */
function pump(total: number, sendBatch: (size: number) => Promise<unknown>): Promise<void> {
  return (async () => {
    for (let sent = 0; sent < total;) {
      const size = Math.min(BATCH, total - sent)
      await sendBatch(size)
      sent += size
    }
  })()
}

function produceOurs(broker: string, total: number, value: Buffer): Subject<ProduceRun> {
  return {
    name: OURS,
    start(run): Started {
      const transport = openTransport(`kafka://${broker}`)
      const producer = transport.producer({ acks: 'all' })
      const records = Array.from({ length: BATCH }, () => ({ topic: run.topic, value }))
      const running = pump(total, (size) => producer.send(size === BATCH ? records : records.slice(0, size)))
      return { running, stop: () => running.finally(() => transport.close()) }
    },
  }
}

function produceRaw(broker: string, total: number, value: Buffer): Subject<ProduceRun> {
  return {
    name: RAW,
    start(run): Started {
      const producer = new Producer({
        clientId: 'bench-raw',
        bootstrapBrokers: [broker],
        acks: ProduceAcks.ALL,
        idempotent: true,
      })
      const messages = Array.from({ length: BATCH }, () => ({ topic: run.topic, value }))
      const running = pump(total, (size) =>
        producer.send({ messages: size === BATCH ? messages : messages.slice(0, size) }),
      )
      return { running, stop: () => running.finally(() => producer.close()) }
    },
  }
}

function producePerf(tools: KafkaTools, total: number): Subject<ProduceRun> {
  return {
    name: PRODUCER_PERF,
    cpuSeconds: () => tools.cpuSeconds(),
    start: (run) =>
      tools.producerPerformance({
        topic: run.topic,
        records: total,
        valueBytes: VALUE_BYTES,
        props: {
          acks: 'all',
          'enable.idempotence': 'true',
          'max.in.flight.requests.per.connection': IN_FLIGHT,
          'batch.size': JAVA_BATCH_BYTES,
          'linger.ms': 5,
        },
      }),
  }
}

function consumeOurs(broker: string, total: number): Subject<ConsumeRun> {
  return {
    name: OURS,
    start(run): Started {
      const transport = openTransport(`kafka://${broker}`)
      const running = (async () => {
        const consumer = transport.consumer({ groupId: run.group, offsetReset: 'earliest' })
        await consumer.subscribe([run.topic])
        const next = new Map<number, number>()
        for (let seen = 0; seen < total;) {
          const records = await consumer.poll({ timeoutMs: 1_000 })
          for (const r of records) next.set(r.partition, r.offset + 1)
          seen += records.length
        }
        await consumer.commit(
          [...next].map(([partition, offset]) => ({ topic: run.topic, partition, offset })),
        )
      })()
      return { running, stop: () => running.finally(() => transport.close()) }
    },
  }
}

function consumeRaw(broker: string, total: number): Subject<ConsumeRun> {
  return {
    name: RAW,
    start(run): Started {
      const consumer = new Consumer({ clientId: 'bench-raw', groupId: run.group, bootstrapBrokers: [broker] })
      const running = (async () => {
        const stream = await consumer.consume({
          topics: [run.topic],
          mode: MessagesStreamModes.EARLIEST,
          autocommit: false,
          isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
          highWaterMark: 10_000,
          ...FETCH,
        })
        const next = new Map<number, bigint>()
        await new Promise<void>((resolve, reject) => {
          let seen = 0
          stream.on('error', reject)
          stream.on('data', (message) => {
            next.set(message.partition, message.offset + 1n)
            if (++seen === total) resolve()
          })
        })
        await consumer.commit({
          offsets: [...next].map(([partition, offset]) => ({
            topic: run.topic,
            partition,
            offset,
            leaderEpoch: -1,
          })),
        })
        await stream.close()
      })()
      return { running, stop: () => running.finally(() => consumer.close()) }
    },
  }
}

/**
 * The raw client's floor under our consumer: its group join (joinGroup, with its heartbeats), then
 * Fetch requests in a loop (one in flight, our fetch sizes) that count the decoded records and
 * advance the offsets: what our transport builds on, without records handed out one by one.
 */
function consumeRawFetch(broker: string, total: number): Subject<ConsumeRun> {
  return {
    name: RAW_FETCH,
    start(run): Started {
      const consumer = new Consumer({ clientId: 'bench-raw', groupId: run.group, bootstrapBrokers: [broker] })
      const running = (async () => {
        consumer.topics.trackAll(run.topic)
        await consumer.joinGroup({})
        const partitions = consumer.assignments?.find((a) => a.topic === run.topic)?.partitions ?? []
        const metadata = await consumer.metadata({ topics: [run.topic] })
        const topic = metadata.topics.get(run.topic)!
        const next = new Map(partitions.map((p) => [p, 0n]))
        for (let seen = 0; seen < total;) {
          const response = await consumer.fetch({
            node: topic.partitions[partitions[0]!]!.leader,
            topics: [
              {
                topicId: topic.id,
                partitions: partitions.map((partition) => ({
                  partition,
                  fetchOffset: next.get(partition)!,
                  partitionMaxBytes: FETCH.maxBytesPerPartition,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                })),
              },
            ],
            minBytes: FETCH.minBytes,
            maxBytes: FETCH.maxBytes,
            maxWaitTime: FETCH.maxWaitTime,
            isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
          })
          for (const t of response.responses)
            for (const p of t.partitions)
              for (const batch of p.records ?? []) {
                seen += batch.records.length
                next.set(p.partitionIndex, batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n)
              }
        }
        await consumer.commit({
          offsets: [...next].map(([partition, offset]) => ({
            topic: run.topic,
            partition,
            offset,
            leaderEpoch: -1,
          })),
        })
      })()
      return { running, stop: () => running.finally(() => consumer.close()) }
    },
  }
}

function consumePerf(tools: KafkaTools, total: number): Subject<ConsumeRun> {
  return {
    name: CONSUMER_PERF,
    cpuSeconds: () => tools.cpuSeconds(),
    start: (run) => tools.consumerPerformance(run.topic, total, run.group),
  }
}

async function fill(broker: string, topic: string, total: number, value: Buffer): Promise<void> {
  const transport = openTransport(`kafka://${broker}`)
  const bar = progress('fill consume source', total)
  try {
    const producer = transport.producer({ acks: 'all' })
    const records = Array.from({ length: BATCH }, () => ({ topic, value }))
    for (let sent = 0; sent < total; sent += BATCH) {
      await producer.send(records.slice(0, Math.min(BATCH, total - sent)))
      bar.add(Math.min(BATCH, total - sent))
    }
    bar.done()
  } finally {
    await transport.close()
  }
}

export default async function transportBench(broker: string, argv: string[]): Promise<Report> {
  const args = benchArgs(argv, { records: 1_000_000, rounds: 7, warmup: 1, only: '' })
  const total = args.records
  const value = Buffer.alloc(VALUE_BYTES, 'x')
  const transport = openTransport(`kafka://${broker}`)
  const admin: Admin = transport.admin()
  const topics: string[] = []
  const groups: string[] = []
  const topic = async (name: string): Promise<string> => {
    const t = `bench-${name}-${randomUUID().slice(0, 8)}`
    await admin.createTopics([{ topic: t, partitions: PARTITIONS }])
    await topicReady(admin, t, PARTITIONS)
    topics.push(t)
    return t
  }
  const tools = await KafkaTools.open(broker)
  const observer = await Observer.open(broker)
  try {
    console.error(
      `Transport bench: ${total.toLocaleString('en-US')} records of ${VALUE_BYTES} bytes, ${PARTITIONS} partitions, ` +
        `${args.warmup} warm-up + ${args.rounds} measured rounds, broker ${broker}`,
    )
    const produce = await runCase<ProduceRun>(
      {
        name: 'produce',
        records: total,
        subjects: [
          produceRaw(broker, total, value),
          produceOurs(broker, total, value),
          producePerf(tools, total),
        ],
        prepare: async () => {
          const t = await topic('produce')
          return {
            topic: t,
            observe: { kind: 'end-offsets', topic: t },
            expected: total,
            verify: async () => {
              const stored = await endOffsets(admin, t)()
              if (stored !== total) throw new Error(`${t}: ${stored} records stored, ${total} sent`)
            },
          }
        },
      },
      { ...args, observer },
    )
    const source = await topic('consume-source')
    await fill(broker, source, total, value)
    const consume = await runCase<ConsumeRun>(
      {
        name: 'consume',
        records: total,
        subjects: [
          consumeRaw(broker, total),
          consumeOurs(broker, total),
          consumeRawFetch(broker, total),
          consumePerf(tools, total),
        ],
        prepare: (subject) => {
          const group = `bench-consume-${subject.name.replace(/\W+/g, '-')}-${randomUUID().slice(0, 8)}`
          groups.push(group)
          return Promise.resolve({
            topic: source,
            group,
            observe: { kind: 'committed', group, topic: source },
            expected: total,
          })
        },
      },
      { ...args, observer },
    )
    return {
      name: 'transport',
      date: new Date().toISOString(),
      environment: benchEnvironment({
        records: total,
        valueBytes: VALUE_BYTES,
        partitions: PARTITIONS,
        rounds: args.rounds,
        warmup: args.warmup,
        batch: BATCH,
        inFlight: IN_FLIGHT,
        javaBatchSizeBytes: JAVA_BATCH_BYTES,
        loadAverage1mPerRound: [...produce.load, ...consume.load].join(' '),
      }),
      method: METHOD,
      baseline: RAW,
      measurements: [...produce.measurements, ...consume.measurements],
      comparisons: [
        produce.compare(RAW, OURS, 0.9),
        consume.compare(RAW, OURS, 0.9),
        consume.compare(RAW_FETCH, OURS),
      ].filter((c) => c !== undefined),
    }
  } finally {
    await tools.close().catch(() => undefined)
    await observer.close().catch(() => undefined)
    for (const group of groups) await admin.deleteGroup(group).catch(() => undefined)
    await admin.deleteTopics(topics).catch(() => undefined)
    await transport.close()
  }
}

const METHOD =
  'Produce: each run writes a fresh topic; clock from the subject start (client creation included, for the JVM ' +
  'the run command to the warm tools JVM) until the topic end offsets reach the record count. Consume: each run ' +
  'reads the same pre-filled topic in a fresh consumer group and commits (ConsumerPerformance: auto-commit on ' +
  'close); clock from the subject start until the group committed offsets reach the record count. Observed by a ' +
  'separate observer process every 20 ms. One discarded warm-up round, then rounds with the subjects in rotated order; figure = median.'
