/**
 * Pipeline throughput: a stateless map + filter + produce pipeline as a Tributary agent, against a
 * hand-written consume -> transform -> produce -> commit loop on the same transport, same broker,
 * same run. Both end when every input record is processed, its output acknowledged and its offset
 * committed. Tributary must keep >= 80% of the loop's throughput.
 */
import { randomUUID } from 'node:crypto'
import { App, json, string } from '../src/index.js'
import { openTransport } from '../src/transport/index.js'
import type { ProducerRecord, Transport } from '../src/transport/types.js'
import { progress } from './lib/progress.js'
import { benchEnvironment, type Measurement, type Report } from './lib/report.js'

const PARTITIONS = 6
const LOOP = 'hand-written loop (kafka://)'
const OURS = 'tributary agent (kafka://)'

type Ride = { id: number; vendor: string; amount: number; distance: number; note: string }
const keep = (r: Ride): boolean => r.amount >= 10
const transform = (r: Ride): { id: number; vendor: string; perMile: number } => ({
  id: r.id,
  vendor: r.vendor,
  perMile: r.distance > 0 ? r.amount / r.distance : 0,
})

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : fallback
}

async function fill(transport: Transport, topic: string, total: number): Promise<number> {
  const producer = transport.producer()
  const bar = progress('fill input', total)
  let kept = 0
  for (let start = 0; start < total; start += 5_000) {
    const batch: ProducerRecord[] = []
    for (let i = start; i < Math.min(total, start + 5_000); i++) {
      const ride: Ride = {
        id: i,
        vendor: String(i % 7),
        amount: i % 50,
        distance: (i % 13) + 0.5,
        note: 'synthetic ride',
      }
      if (keep(ride)) kept++
      batch.push({ topic, key: Buffer.from(ride.vendor), value: Buffer.from(JSON.stringify(ride)) })
    }
    await producer.send(batch)
    bar.add(batch.length)
  }
  bar.done()
  return kept
}

async function committed(transport: Transport, group: string): Promise<number> {
  return (await transport.admin().listGroupOffsets(group)).reduce((n, o) => n + o.offset, 0)
}

async function runLoop(broker: string, input: string, output: string, total: number): Promise<number> {
  const transport = openTransport(broker)
  const group = `bench-loop-${randomUUID().slice(0, 8)}`
  const consumer = transport.consumer({ groupId: group, offsetReset: 'earliest' })
  const producer = transport.producer()
  const bar = progress(LOOP, total)
  const start = performance.now()
  try {
    await consumer.subscribe([input])
    let done = 0
    while (done < total) {
      const records = await consumer.poll({ timeoutMs: 500, maxRecords: 5_000 })
      if (records.length === 0) continue
      const out: ProducerRecord[] = []
      const next = new Map<number, number>()
      for (const r of records) {
        const ride = JSON.parse(r.value!.toString()) as Ride
        if (keep(ride))
          out.push({ topic: output, key: r.key, value: Buffer.from(JSON.stringify(transform(ride))) })
        next.set(r.partition, r.offset + 1)
      }
      if (out.length) await producer.send(out)
      await consumer.commit([...next].map(([partition, offset]) => ({ topic: input, partition, offset })))
      done += records.length
      bar.add(records.length)
    }
    bar.done()
    return (performance.now() - start) / 1000
  } finally {
    await transport.close()
  }
}

async function runAgent(broker: string, input: string, output: string, total: number): Promise<number> {
  const id = `bench-agent-${randomUUID().slice(0, 8)}`
  const app = new App({
    id,
    broker,
    web: false,
    createTopics: false,
    commitIntervalMs: 100,
    log: () => undefined,
  })
  const rides = app.topic(input, { key: string, value: json<Ride>() })
  const out = app.topic(output, { key: string, value: json<ReturnType<typeof transform>>() })
  app.agent(
    'per-mile',
    rides.stream().filter(keep).map(transform),
    async function* (stream) {
      for await (const event of stream) yield event.value
    },
    { sink: [out] },
  )
  const transport = openTransport(broker)
  const bar = progress(OURS, total)
  const start = performance.now()
  try {
    await app.start()
    let done = 0
    while (done < total) {
      await new Promise((r) => setTimeout(r, 20))
      const now = await committed(transport, id)
      bar.add(now - done)
      done = now
    }
    bar.done()
    return (performance.now() - start) / 1000
  } finally {
    await app.stop()
    await transport.close()
  }
}

export default async function pipelineBench(broker: string, args: string[]): Promise<Report> {
  const total = option(args, '--records', 500_000)
  const rounds = option(args, '--rounds', 2)
  const url = `kafka://${broker}`
  const transport = openTransport(url)
  const id = randomUUID().slice(0, 8)
  const input = `bench-pipeline-in-${id}`
  const outputs: string[] = []
  const measurements: Measurement[] = []
  try {
    await transport.admin().createTopics([{ topic: input, partitions: PARTITIONS }])
    console.log(
      `Pipeline bench: ${total.toLocaleString('en-US')} JSON records, ${PARTITIONS} partitions, best of ${rounds} alternating rounds, broker ${broker}`,
    )
    const kept = await fill(transport, input, total)
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [runLoop, runAgent] : [runAgent, runLoop]
      for (const run of order) {
        const output = `bench-pipeline-out-${randomUUID().slice(0, 8)}`
        outputs.push(output)
        await transport.admin().createTopics([{ topic: output, partitions: PARTITIONS }])
        const seconds = await run(url, input, output, total)
        const produced = (await transport.admin().listOffsets(output, 'latest')).reduce(
          (n, o) => n + o.offset,
          0,
        )
        if (produced < kept) throw new Error(`${output}: ${produced} outputs, expected ${kept}`)
        const subject = run === runLoop ? LOOP : OURS
        const m = {
          case: 'map+filter+produce',
          subject,
          seconds,
          records: total,
          recordsPerSec: total / seconds,
        }
        const previous = measurements.find((x) => x.subject === subject)
        if (!previous) measurements.push(m)
        else if (m.recordsPerSec > previous.recordsPerSec) Object.assign(previous, m)
      }
    }
  } finally {
    await transport
      .admin()
      .deleteTopics([input, ...outputs])
      .catch(() => undefined)
    await transport.close()
  }
  return {
    name: 'pipeline',
    date: new Date().toISOString(),
    environment: benchEnvironment({
      records: total,
      partitions: PARTITIONS,
    }),
    baseline: LOOP,
    measurements,
  }
}
