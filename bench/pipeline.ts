/**
 * Pipeline throughput: the same stateless map + filter + produce over the same JSON input, at least
 * once, as a Tributary agent of operators and a sink (no body: the form of Kafka Streams' DSL
 * `filter.mapValues.to`), as the same agent with a Faust-style body that yields every event, as a
 * hand-written consume -> transform -> produce -> commit loop on our transport, and as a Kafka
 * Streams 4.1 application (bench/peers/kafka-streams), on the same broker in the same run. Targets:
 * the agent at or above 1.0x Kafka Streams and 0.85x the loop; the body's figures are reported
 * beside it (two async iterations per record: the price of the body form).
 *
 *   npm run bench -- pipeline [--records 500000] [--rounds 7] [--warmup 1] [--stream-threads 1]
 */
import { randomUUID } from 'node:crypto'
import { App, json, string } from '../src/index.js'
import { openTransport } from '../src/transport/index.js'
import type { ProducerRecord, Transport } from '../src/transport/types.js'
import { benchArgs } from './lib/args.js'
import { KafkaStreamsPeer } from './lib/kafka-streams.js'
import { progress } from './lib/progress.js'
import { benchEnvironment, type Report } from './lib/report.js'
import { runCase, type Run, type Started, type Subject } from './lib/rounds.js'
import { topicReady } from './lib/watch.js'
import { Observer } from './lib/observer-client.js'
import { readSample } from './lib/sample.js'

const PARTITIONS = 6
const LOOP = 'hand-written loop (kafka://)'
const OURS = 'tributary agent (kafka://)'
const BODY = 'tributary agent body (kafka://)'
const STREAMS = 'Kafka Streams 4.1 (at-least-once)'

type Ride = { id: number; vendor: string; amount: number; distance: number; note: string }
const ride = (i: number): Ride => ({
  id: i,
  vendor: String(i % 7),
  amount: i % 50,
  distance: (i % 13) + 0.5,
  note: 'synthetic ride',
})
const keep = (r: Ride): boolean => r.amount >= 10
const transform = (r: Ride): { id: number; vendor: string; perMile: number } => ({
  id: r.id,
  vendor: r.vendor,
  perMile: r.distance > 0 ? r.amount / r.distance : 0,
})

interface PipelineRun extends Run {
  input: string
  output: string
  /** The consumer group (application id) of this run only. */
  group: string
}

async function fill(transport: Transport, topic: string, total: number): Promise<number> {
  const producer = transport.producer()
  const bar = progress('fill input', total)
  let kept = 0
  for (let start = 0; start < total; start += 5_000) {
    const batch: ProducerRecord[] = []
    for (let i = start; i < Math.min(total, start + 5_000); i++) {
      const r = ride(i)
      if (keep(r)) kept++
      batch.push({ topic, key: Buffer.from(r.vendor), value: Buffer.from(JSON.stringify(r)) })
    }
    await producer.send(batch)
    bar.add(batch.length)
  }
  bar.done()
  return kept
}

function loop(url: string): Subject<PipelineRun> {
  return {
    name: LOOP,
    start(run): Started {
      const transport = openTransport(url)
      let stopping = false
      const running = (async () => {
        const consumer = transport.consumer({ groupId: run.group, offsetReset: 'earliest' })
        const producer = transport.producer()
        await consumer.subscribe([run.input])
        while (!stopping) {
          const records = await consumer.poll({ timeoutMs: 100, maxRecords: 5_000 })
          if (records.length === 0) continue
          const out: ProducerRecord[] = []
          const next = new Map<number, number>()
          for (const r of records) {
            const value = JSON.parse(r.value!.toString()) as Ride
            if (keep(value))
              out.push({
                topic: run.output,
                key: r.key,
                value: Buffer.from(JSON.stringify(transform(value))),
              })
            next.set(r.partition, r.offset + 1)
          }
          if (out.length) await producer.send(out)
          await consumer.commit(
            [...next].map(([partition, offset]) => ({ topic: run.input, partition, offset })),
          )
        }
      })()
      return {
        running,
        stop: async () => {
          stopping = true
          try {
            await running
          } finally {
            await transport.close()
          }
        },
      }
    },
  }
}

function agent(url: string, withBody: boolean): Subject<PipelineRun> {
  return {
    name: withBody ? BODY : OURS,
    start(run): Started {
      const app = new App({
        id: run.group,
        broker: url,
        web: false,
        createTopics: false,
        commitIntervalMs: 100,
        log: (level, message) => {
          if (level === 'error') console.error(`  [agent] ${message}`)
        },
      })
      const rides = app.topic(run.input, { key: string, value: json<Ride>() })
      const out = app.topic(run.output, { key: string, value: json<ReturnType<typeof transform>>() })
      const stream = rides.stream().filter(keep).map(transform)
      if (withBody)
        app.agent(
          'per-mile',
          stream,
          async function* (events) {
            for await (const event of events) yield event.value
          },
          { sink: [out] },
        )
      else app.agent('per-mile', stream, { sink: [out] })
      const started = app.start()
      return {
        running: started.then((worker) => worker.done),
        stop: async () => {
          await started.catch(() => undefined)
          await app.stop()
        },
      }
    },
  }
}

function kafkaStreams(peer: KafkaStreamsPeer): Subject<PipelineRun> {
  return {
    name: STREAMS,
    start: (run) => peer.start(run.group, run.input, run.output),
    cpuSeconds: () => peer.cpuSeconds(),
  }
}

export default async function pipelineBench(broker: string, argv: string[]): Promise<Report> {
  const args = benchArgs(argv, { records: 500_000, rounds: 7, warmup: 1, only: '', streamThreads: 1 })
  const url = `kafka://${broker}`
  const transport = openTransport(url)
  const admin = transport.admin()
  const id = randomUUID().slice(0, 8)
  const input = `bench-pipeline-in-${id}`
  const topics = [input]
  const groups: string[] = []
  const peer = await KafkaStreamsPeer.open(broker, args.streamThreads)
  const observer = await Observer.open(broker)
  try {
    await admin.createTopics([{ topic: input, partitions: PARTITIONS }])
    await topicReady(admin, input, PARTITIONS)
    console.error(
      `Pipeline bench: ${args.records.toLocaleString('en-US')} JSON records, ${PARTITIONS} partitions, ` +
        `${args.warmup} warm-up + ${args.rounds} measured rounds, broker ${broker}`,
    )
    const kept = await fill(transport, input, args.records)
    const result = await runCase<PipelineRun>(
      {
        name: 'map+filter+produce',
        records: args.records,
        subjects: [loop(url), agent(url, false), agent(url, true), kafkaStreams(peer)],
        prepare: async (subject) => {
          const tag = randomUUID().slice(0, 8)
          const output = `bench-pipeline-out-${tag}`
          const group = `bench-pipeline-${subject.name.split(' ')[0]!.toLowerCase()}-${tag}`
          topics.push(output)
          groups.push(group)
          await admin.createTopics([{ topic: output, partitions: PARTITIONS }])
          await topicReady(admin, output, PARTITIONS)
          return {
            input,
            output,
            group,
            observe: { kind: 'end-offsets', topic: output },
            expected: kept,
            verify: () => verify(transport, output),
          }
        },
      },
      { ...args, observer },
    )
    return {
      name: 'pipeline',
      date: new Date().toISOString(),
      environment: benchEnvironment({
        records: args.records,
        outputRecords: kept,
        partitions: PARTITIONS,
        rounds: args.rounds,
        warmup: args.warmup,
        kafkaStreamsThreads: args.streamThreads,
        kafkaStreamsCommitIntervalMs: 100,
        agentCommitIntervalMs: 100,
        loadAverage1mPerRound: result.load.join(' '),
      }),
      method: METHOD,
      baseline: LOOP,
      measurements: result.measurements,
      comparisons: [
        result.compare(STREAMS, OURS, 1.0),
        result.compare(LOOP, OURS, 0.85),
        result.compare(STREAMS, BODY),
        result.compare(LOOP, BODY),
      ].filter((c) => c !== undefined),
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
  'Input filled once before the rounds; each run gets a fresh output topic and consumer group / application id. ' +
  'Clock: from the moment the subject is started (in-process start call, or the start command to the warm ' +
  'Kafka Streams JVM) until the output topic end offsets, polled every 20 ms by a separate observer process, reach the number of ' +
  'output records. One discarded warm-up round, then rounds with the subjects in rotated order. ' +
  'records/s = input records / seconds; figure = median of the rounds.'

/** Every output record must be exactly what the loop would write for its ride (key, JSON, number format). */
async function verify(transport: Transport, output: string): Promise<void> {
  for (const r of await readSample(transport, output, 200)) {
    const value = r.value?.toString() ?? ''
    const out = JSON.parse(value) as { id: number }
    const expected = ride(out.id)
    if (value !== JSON.stringify(transform(expected)) || r.key?.toString() !== expected.vendor)
      throw new Error(`${output}: record ${r.partition}@${r.offset} is ${r.key?.toString()} ${value}`)
  }
}
