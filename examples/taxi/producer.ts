/** The taxi producer: sends each row of a rides CSV as JSON to topic `rides`, keyed by VendorID, at 1 row/s or --rate/--fast. */
import { setTimeout as sleep } from 'node:timers/promises'
import { App, type RecordMetadata, type Topic } from '../../src/index.js'
import {
  COMMON_USAGE,
  DEFAULT_BROKER,
  OPTIONS,
  count,
  isMain,
  main,
  parseOptions,
  rateOf,
  until,
} from './cli.js'
import { generateRides } from './data.js'
import { declareRides, readRides, rideKey, type Ride } from './ride.js'

export interface ProducerAppOptions {
  /** @default memory:// (DEFAULT_BROKER: nothing outside this process sees what it sends) */
  broker?: string
  /** @default 'taxi-producer' */
  id?: string
  /** @default 'rides' */
  topic?: string
}

/** A producer-only app: it has no agents, so its worker joins no group and only sends. */
export function buildProducerApp(options: ProducerAppOptions = {}): {
  app: App
  rides: Topic<string | null, Ride>
} {
  const app = new App({
    id: options.id ?? 'taxi-producer',
    broker: options.broker ?? DEFAULT_BROKER,
    web: false,
  })
  return { app, rides: declareRides(app, options.topic) }
}

export interface SendOptions {
  /** Rows per second; Infinity sends as fast as the broker acknowledges. @default 1 */
  rate?: number
  /** Called as each ride is acknowledged, in order. */
  onSent?: (ride: Ride, meta: RecordMetadata, sent: number) => void
  /** Stops sending (what was sent is still awaited). */
  signal?: AbortSignal
}

/** Sends not yet acknowledged at once; sends go out in call order, so per-key order holds. */
const IN_FLIGHT = 1_000

/** Sends rides paced at `rate`; resolves with how many were sent once all are acknowledged. */
export async function sendRides(
  topic: Topic<string | null, Ride>,
  rides: Iterable<Ride> | AsyncIterable<Ride>,
  { rate = 1, onSent, signal }: SendOptions = {},
): Promise<number> {
  const start = performance.now()
  const inFlight: Array<Promise<void>> = []
  let queued = 0
  let sent = 0
  for await (const ride of rides) {
    const wait = start + (queued * 1000) / rate - performance.now()
    if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined)
    if (signal?.aborted) break
    const sending = topic.send({ key: rideKey(ride), value: ride }).then((meta) => {
      sent++
      onSent?.(ride, meta, sent)
    })
    sending.catch(() => undefined) // awaited below; this only keeps an early failure from going unhandled
    inFlight.push(sending)
    queued++
    if (inFlight.length >= IN_FLIGHT) await inFlight.shift()
  }
  await Promise.all(inFlight)
  return sent
}

/** The rides of a CSV file, or `rows` generated ones (seeded) when no file is given. */
export function rideSource(values: {
  file?: string | undefined
  rows?: string | undefined
  seed?: string | undefined
}): Iterable<Ride> | AsyncIterable<Ride> {
  if (values.file !== undefined) return readRides(values.file)
  const seed = count('--seed', values.seed ?? '2020', 0)
  return generateRides({ rows: count('--rows', values.rows ?? '1000', 0), seed })
}

/** Starts a producer app, sends the rides, stops; resolves with how many were sent. */
export async function produce(
  options: ProducerAppOptions & SendOptions & { rides: Iterable<Ride> | AsyncIterable<Ride> },
): Promise<number> {
  const { app, rides } = buildProducerApp(options)
  await app.start()
  try {
    return await sendRides(rides, options.rides, options)
  } finally {
    await app.stop()
  }
}

/** Progress lines on stderr, at most four a second (every row at the course's 1 row/s). */
export function progress(): (ride: Ride, meta: RecordMetadata, sent: number) => void {
  let last = 0
  return (ride, meta, sent) => {
    if (performance.now() - last < 250) return
    last = performance.now()
    process.stderr.write(
      `sent ${sent} rides; last: VendorID ${ride.VendorID} $${ride.total_amount.toFixed(2)} -> ${meta.topic}[${meta.partition}]@${meta.offset}\n`,
    )
  }
}

/**
 * For printer.ts and branch.ts on memory://, where the broker lives in this process: starts their
 * apps, sends the rides here too (from --file, or --rows generated ones, default 20), and stops the
 * apps once `done(sent)` holds. Resolves with how many rides were sent.
 */
export async function runWithProducer(
  apps: App[],
  values: Parameters<typeof rideSource>[0] & { broker: string; topic: string; rate: number },
  done: (sent: number) => boolean,
  /** Runs while the apps still run, once `done` held (e.g. to ask them over HTTP). */
  before?: () => Promise<void>,
): Promise<number> {
  const stop = new AbortController()
  const interrupt = (): void => stop.abort()
  process.once('SIGINT', interrupt)
  try {
    for (const app of apps) await app.start()
    const rides = rideSource({ ...values, rows: values.rows ?? '20' })
    const sent = await produce({ ...values, rides, signal: stop.signal })
    await until(() => done(sent) || stop.signal.aborted, 'the rides to come through', 60_000)
    await before?.()
    return sent
  } finally {
    process.off('SIGINT', interrupt)
    for (const app of [...apps].reverse()) await app.stop()
  }
}

const USAGE = `
Usage: tsx examples/taxi/producer.ts [options]

Sends taxi rides as JSON to a topic, keyed by VendorID: each row of --file, or generated rows.

  --topic <name>   the topic (default rides)
  --file <csv>     the rides CSV (default: --rows generated rows)
  --rows <n>       generated rows when no --file is given (default 1000)
  --seed <n>       seed of the generated rows (default 2020)
  --rate <n>       rows per second (default 1, as in the course)
  --fast           as fast as the broker acknowledges${COMMON_USAGE}

On memory:// nothing outside this process sees the rides: give --broker kafka://127.0.0.1:19092
(npm run kafka:start), or run printer.ts or branch.ts, which feed themselves on memory://.
`

if (isMain(import.meta.url)) {
  main(async () => {
    const values = parseOptions(OPTIONS, USAGE)
    const broker = values.broker ?? DEFAULT_BROKER
    if (broker.startsWith('memory://')) {
      console.error(
        'warning: a memory:// broker lives inside this process, so no other program sees these rides; ' +
          'use --broker kafka://..., or run printer.ts or branch.ts, which feed themselves on memory://',
      )
    }
    const stop = new AbortController()
    process.once('SIGINT', () => stop.abort())
    const started = performance.now()
    const topic = values.topic ?? 'rides'
    const rides = rideSource(values)
    const sent = await produce({
      broker,
      topic,
      rides,
      rate: rateOf(values),
      onSent: progress(),
      signal: stop.signal,
    })
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    process.stderr.write(`sent ${sent} rides to ${topic} on ${broker} in ${seconds} s\n`)
  })
}
