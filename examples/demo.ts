/**
 * The demo: a Tributary app on the embedded `memory://` broker, no infrastructure needed.
 * Taxi rides keyed by VendorID go to a 6-partition topic; two workers of one app share the
 * partitions (a third joins a third of the way in); one agent totals rides per vendor, another
 * sends the rides of $40 or more to their own topic; every ride is counted once.
 */
import { App, json, string } from '../src/index.js'

const RIDES = Number(process.env.DEMO_RIDES ?? 30_000)
// VendorIDs as in the taxi data; with Kafka's murmur2 these six keys fall on six different partitions.
const VENDORS = ['1', '2', '3', '4', '5', '6']
const BROKER = 'memory://demo'

type Ride = { ride: number; vendor: string; total_amount: number }

const totals = new Map<string, { rides: number; amount: number }>()
const highRides = new Map<string, number>()
const perWorker = new Map<string, number>()

/** One worker of the app: each start() of an App joins the app's consumer group. */
function worker(workerId: string): App {
  const app = new App({
    id: 'demo',
    broker: BROKER,
    workerId,
    topicPartitions: 6,
    web: false,
    commitIntervalMs: 100,
  })
  const rides = app.topic('rides', { key: string, value: json<Ride>(), partitions: 6 })
  const high = app.topic('rides-high-amount', { key: string, value: json<Ride>() })
  // Two agents read the rides: one totals them per vendor, one keeps the expensive ones in a topic.
  app.agent('totals', rides, async (stream) => {
    for await (const event of stream) {
      perWorker.set(workerId, (perWorker.get(workerId) ?? 0) + 1)
      const t = totals.get(event.value.vendor) ?? { rides: 0, amount: 0 }
      t.rides += 1
      t.amount += event.value.total_amount
      totals.set(event.value.vendor, t)
    }
  })
  app.agent(
    'high-amount',
    rides.stream().filter((r) => r.total_amount >= 40),
    async function* (stream) {
      for await (const event of stream) {
        highRides.set(event.value.vendor, (highRides.get(event.value.vendor) ?? 0) + 1)
        yield event.value
      }
    },
    { sink: [high] },
  )
  return app
}

async function main(): Promise<void> {
  const a = worker('worker-a')
  const b = worker('worker-b')
  await a.start()
  await b.start()
  console.log('Two workers of app "demo" joined its group on the embedded broker memory://')
  const rides = a.topics.get('rides')!
  const start = Date.now()
  let c: App | undefined
  let expectedHigh = 0
  const sends: Array<Promise<unknown>> = []
  for (let n = 0; n < RIDES; n++) {
    const vendor = VENDORS[n % VENDORS.length]!
    const ride: Ride = {
      ride: n,
      vendor,
      total_amount: Math.round((5 + ((n * 7919) % 6000) / 100) * 100) / 100,
    }
    if (ride.total_amount >= 40) expectedHigh++
    sends.push(rides.send({ key: vendor, value: ride }))
    if (n === Math.floor(RIDES / 3)) {
      await Promise.all(sends.splice(0))
      c = worker('worker-c')
      await c.start()
      console.log('worker-c joined a third of the way in: the partitions are rebalanced')
    }
  }
  await Promise.all(sends)
  const counted = (): number => [...totals.values()].reduce((n, t) => n + t.rides, 0)
  const high = (): number => [...highRides.values()].reduce((n, h) => n + h, 0)
  const deadline = Date.now() + 60_000
  while ((counted() < RIDES || high() < expectedHigh) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  console.log(`Produced and processed ${RIDES} rides in ${Date.now() - start} ms`)
  console.log(
    `Rides per worker: ${[...perWorker]
      .sort()
      .map(([w, n]) => `${w}=${n}`)
      .join(' ')}`,
  )
  console.log('\nVendorID   rides  >= $40  total amount')
  for (const [vendor, t] of [...totals].sort()) {
    console.log(
      `${vendor.padEnd(8)} ${String(t.rides).padStart(7)} ${String(highRides.get(vendor) ?? 0).padStart(7)}  ${t.amount.toFixed(2).padStart(12)}`,
    )
  }
  for (const app of [a, b, c]) await app?.stop()
  const once = counted() === RIDES && high() === expectedHigh
  console.log(
    `\nCounted ${counted()} rides and ${high()} of $40 or more: ${once ? 'each exactly once' : 'SOME TWICE'} across the rebalance`,
  )
}

const USAGE = `Usage: npm run demo   (or: tsx examples/demo.ts)

Runs an app of two workers, then three, on the embedded broker (memory://demo, no infrastructure):
DEMO_RIDES taxi rides (default 30,000) keyed by VendorID on a 6-partition topic; one agent totals
the rides per vendor, another sends those of $40 or more to their own topic. It prints the
rebalance and checks that every ride was counted exactly once.

  -h, --help   this help`

const args = process.argv.slice(2)
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE)
} else if (args.length > 0) {
  console.error(`Unknown argument ${args[0]}\n\n${USAGE}`)
  process.exitCode = 2
} else
  main().catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
