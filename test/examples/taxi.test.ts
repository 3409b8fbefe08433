import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { parse } from 'csv-parse/sync'
import { openTransport, partitionForKey } from '../../src/index.js'
import type { ConsumedRecord } from '../../src/index.js'
import { BRANCH_TOPICS, HIGH_AMOUNT, buildBranchApp } from '../../examples/taxi/branch.js'
import { until } from '../../examples/taxi/cli.js'
import { generateCsv, generateRides } from '../../examples/taxi/data.js'
import { buildPrinterApp } from '../../examples/taxi/printer.js'
import { buildProducerApp, produce, sendRides } from '../../examples/taxi/producer.js'
import { VENDOR_TABLE, buildVendorsApp } from '../../examples/taxi/vendors.js'
import { buildPerMinuteApp } from '../../examples/taxi/per-minute.js'
import { TestDriver } from '../../src/testing/index.js'
import { waitUntil } from '../helpers/wait.js'
import { AMOUNT_PARTS, parseRides, readRides, type Ride } from '../../examples/taxi/ride.js'
import { testBroker } from '../helpers/broker.js'
import { pollUntil } from '../transport/helpers.js'

const run = promisify(execFile)

const COURSE_COLUMNS = [
  'VendorID',
  'tpep_pickup_datetime',
  'tpep_dropoff_datetime',
  'passenger_count',
  'trip_distance',
  'RatecodeID',
  'store_and_fwd_flag',
  'PULocationID',
  'DOLocationID',
  'payment_type',
  'fare_amount',
  'extra',
  'mta_tax',
  'tip_amount',
  'tolls_amount',
  'improvement_surcharge',
  'total_amount',
  'congestion_surcharge',
]

const cents = (amount: number): number => Math.round(amount * 100)
const privateBroker = (): string => `memory://taxi-${randomUUID()}`

/** Runs an example as its own process, as a user would. */
function example(name: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, ['--import', 'tsx', `examples/taxi/${name}.ts`, ...args], {
    env: { ...process.env, ...env },
    timeout: 60_000,
  })
}

/** Every record of a topic, up to its end offsets now. */
async function readTopic(broker: string, topic: string): Promise<ConsumedRecord[]> {
  const transport = openTransport(broker)
  try {
    const ends = await transport.admin().listOffsets(topic, 'latest')
    const total = ends.reduce((n, end) => n + end.offset, 0)
    const consumer = transport.consumer()
    await consumer.assign(ends.map(({ partition }) => ({ topic, partition, from: 'earliest' as const })))
    try {
      return await pollUntil(consumer, (all) => all.length >= total, 30_000)
    } finally {
      await consumer.close()
    }
  } finally {
    await transport.close()
  }
}

/** A record as the bytes that must survive forwarding, comparable as a multiset once sorted. */
const fingerprint = (r: ConsumedRecord): string =>
  `${r.key?.toString('hex')}|${r.value?.toString('hex')}|${r.timestamp}`

const rideOf = (r: ConsumedRecord): Ride => JSON.parse(r.value!.toString()) as Ride

/** Checks that high and low hold each ride of `rides` exactly once, on the right side, bytes untouched. */
function assertBranched(rides: ConsumedRecord[], high: ConsumedRecord[], low: ConsumedRecord[]): void {
  assert.deepEqual([...high, ...low].map(fingerprint).sort(), rides.map(fingerprint).sort())
  assert.ok(
    high.length > 0 && low.length > 0,
    `both branches get rides (high ${high.length}, low ${low.length})`,
  )
  for (const r of high) assert.ok(rideOf(r).total_amount >= HIGH_AMOUNT)
  for (const r of low) assert.ok(rideOf(r).total_amount < HIGH_AMOUNT)
}

test('the generator gives the same bytes for the same seed and other bytes for another seed', () => {
  const csv = generateCsv({ rows: 500, seed: 7 })
  assert.equal(generateCsv({ rows: 500, seed: 7 }), csv)
  assert.notEqual(generateCsv({ rows: 500, seed: 8 }), csv)
  assert.ok(generateCsv({ rows: 600, seed: 7 }).startsWith(csv), 'more rows extend the same sequence')
})

test('every generated row has the 18 course columns and a total that is the sum of its parts', () => {
  const csv = generateCsv({ rows: 1000 })
  const table = parse(csv)
  assert.deepEqual(table[0], COURSE_COLUMNS)
  assert.equal(table.length, 1001)
  for (const row of table) assert.equal(row.length, 18)

  const rides = parseRides(csv)
  assert.deepEqual(rides, generateRides({ rows: 1000 }), 'the CSV carries every value exactly')
  let previousPickup = ''
  for (const ride of rides) {
    const parts = AMOUNT_PARTS.reduce((sum, part) => sum + cents(ride[part]), 0)
    assert.equal(parts, cents(ride.total_amount), `total of ${JSON.stringify(ride)}`)
    assert.ok([1, 2].includes(ride.VendorID))
    assert.ok(ride.tpep_dropoff_datetime > ride.tpep_pickup_datetime)
    assert.ok(ride.tpep_pickup_datetime >= previousPickup, 'pickups in time order')
    assert.ok(ride.trip_distance > 0 && ride.fare_amount >= 2.5)
    previousPickup = ride.tpep_pickup_datetime
  }
  const high = rides.filter((r) => r.total_amount >= HIGH_AMOUNT).length
  assert.ok(high >= 30 && high <= 300, `some but not most rides cost $40 or more: ${high} of 1000`)
})

test('a CSV file is read as a stream of typed rides, and a bad value names its row', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'taxi-'))
  try {
    const file = join(dir, 'rides.csv')
    await writeFile(file, generateCsv({ rows: 300, seed: 5 }))
    const read: Ride[] = []
    for await (const ride of readRides(file)) read.push(ride)
    assert.deepEqual(read, generateRides({ rows: 300, seed: 5 }))

    const lines = generateCsv({ rows: 3 }).split('\n')
    const fields = lines[2]!.split(',')
    fields[COURSE_COLUMNS.indexOf('PULocationID')] = 'abc'
    lines[2] = fields.join(',')
    await writeFile(file, lines.join('\n'))
    await assert.rejects(async () => {
      for await (const _ of readRides(file)) {
        // reading is the test
      }
    }, /rides CSV row 2: PULocationID is "abc", not a number/)
    await assert.rejects(readRides(join(dir, 'missing.csv')).next(), /ENOENT/)
  } finally {
    await rm(dir, { recursive: true })
  }
})

test('the data command prints the same CSV as the function, whatever the time zone', async () => {
  const { stdout } = await example('data', ['--rows', '200', '--seed', '11'], { TZ: 'Pacific/Chatham' })
  assert.equal(stdout, generateCsv({ rows: 200, seed: 11 }))
})

test('a producer-only app starts without agents, joins no group, and sends each ride keyed by VendorID', async () => {
  const broker = privateBroker()
  const { app, rides } = buildProducerApp({ broker })
  assert.equal(app.agents.size, 0)
  await app.start()
  const data = generateRides({ rows: 50 })
  const acknowledged: number[] = []
  try {
    const sent = await sendRides(rides, data, { rate: Infinity, onSent: (_r, _m, n) => acknowledged.push(n) })
    assert.equal(sent, 50)
    assert.deepEqual(
      acknowledged,
      Array.from({ length: 50 }, (_, i) => i + 1),
    )
    assert.deepEqual(app.worker!.assignment(), [])
  } finally {
    await app.stop()
  }
  const transport = openTransport(broker)
  assert.deepEqual(await transport.admin().listGroups(), [], 'the producer joined no consumer group')
  await transport.close()
  const records = await readTopic(broker, 'rides')
  assert.equal(records.length, 50)
  for (const r of records) {
    const ride = rideOf(r)
    assert.equal(r.key!.toString(), String(ride.VendorID))
    assert.equal(r.partition, partitionForKey(r.key!, 2))
  }
  for (const partition of [0, 1]) {
    const sentHere = data.filter(
      (ride) => partitionForKey(Buffer.from(String(ride.VendorID)), 2) === partition,
    )
    const readHere = records.filter((r) => r.partition === partition).sort((a, b) => a.offset - b.offset)
    assert.deepEqual(readHere.map(rideOf), sentHere, `partition ${partition} holds its rides in order`)
  }
})

test('the producer paces rides at the given rate', async () => {
  const broker = privateBroker()
  const { app, rides } = buildProducerApp({ broker })
  await app.start()
  try {
    const started = performance.now()
    assert.equal(await sendRides(rides, generateRides({ rows: 5 }), { rate: 20 }), 5)
    const elapsed = performance.now() - started
    assert.ok(elapsed >= 190 && elapsed < 2_000, `5 rides at 20/s take about 200 ms, took ${elapsed}`)
  } finally {
    await app.stop()
  }
})

test('the printer prints every ride with its key, partition and offset', async () => {
  const broker = privateBroker()
  const lines: string[] = []
  const printer = buildPrinterApp({ broker, print: (line) => lines.push(line) })
  await printer.start()
  const data = generateRides({ rows: 40 })
  try {
    assert.equal(await produce({ broker, rides: data, rate: Infinity }), 40)
    await until(() => lines.length >= 40, 'the printer')
  } finally {
    await printer.stop()
  }
  assert.equal(lines.length, 40)
  const seen = lines.map((line) => {
    const m = /^rides\[(\d)\]@(\d+) key=(\d) .* \$(\d+\.\d\d) /.exec(line)
    assert.ok(m, line)
    return { partition: Number(m[1]), offset: Number(m[2]), key: m[3]!, total: m[4]! }
  })
  for (const key of ['1', '2']) {
    const mine = seen.filter((s) => s.key === key)
    const partition = partitionForKey(Buffer.from(key), 2)
    assert.deepEqual(
      mine.map((s) => [s.partition, s.offset, s.total]),
      data
        .filter((ride) => String(ride.VendorID) === key)
        .map((ride, offset) => [partition, offset, ride.total_amount.toFixed(2)]),
      `vendor ${key}: every ride, in order`,
    )
  }
})

test('branch sends every ride to exactly one of high and low, with its original bytes', async () => {
  const broker = privateBroker()
  const app = buildBranchApp({ broker })
  await app.start()
  try {
    assert.equal(await produce({ broker, rides: generateRides({ rows: 300, seed: 3 }), rate: Infinity }), 300)
    await until(
      () => app.worker!.committedOffsets().reduce((n, p) => n + (p.offset ?? 0), 0) >= 300,
      'the commits',
    )
  } finally {
    await app.stop()
  }
  const [rides, high, low] = await Promise.all(
    [BRANCH_TOPICS.rides, BRANCH_TOPICS.high, BRANCH_TOPICS.low].map((t) => readTopic(broker, t)),
  )
  assert.equal(rides!.length, 300)
  assertBranched(rides!, high!, low!)
})

test('the printer and branch commands on memory:// run the producer in the same process', async () => {
  const printer = await example('printer', ['--rows', '5', '--fast'])
  assert.equal(printer.stdout.trim().split('\n').length, 5)
  assert.match(printer.stdout, /^rides\[1\]@0 key=1 /)
  assert.match(printer.stderr, /printed 5 of 5 rides/)

  const branch = await example('branch', ['--rows', '100', '--rate', '500'])
  const m = /100 rides: (\d+) to rides-high-amount, (\d+) to rides-low-amount/.exec(branch.stderr)
  assert.ok(m, branch.stderr)
  assert.equal(Number(m[1]) + Number(m[2]), 100)
  assert.equal(branch.stdout.match(/^rides-high-amount\[/gm)?.length, Number(m[1]))
  assert.equal(branch.stdout.match(/^rides-low-amount\[/gm)?.length, Number(m[2]))
})

test('the producer command, the printer and branch work end to end on the real Kafka broker', async () => {
  const broker = testBroker()
  const id = randomUUID().slice(0, 8)
  const topics = { rides: `taxi-rides-${id}`, high: `taxi-high-${id}`, low: `taxi-low-${id}` }
  const lines: string[] = []
  const printer = buildPrinterApp({
    broker,
    id: `taxi-printer-${id}`,
    topic: topics.rides,
    print: (l) => lines.push(l),
  })
  const branch = buildBranchApp({ broker, id: `taxi-branch-${id}`, topics })
  try {
    await Promise.all([printer.start(), branch.start()])
    const { stderr } = await example('producer', [
      '--broker',
      broker,
      '--topic',
      topics.rides,
      '--rows',
      '60',
      '--fast',
    ])
    assert.match(stderr, new RegExp(`sent 60 rides to ${topics.rides}`))
    await until(() => lines.length >= 60, 'the printer', 60_000)
    assert.equal(new Set(lines.map((l) => l.split(' ')[0])).size, 60, 'each ride printed once')
    let high: ConsumedRecord[] = []
    let low: ConsumedRecord[] = []
    const deadline = Date.now() + 60_000
    for (;;) {
      ;[high, low] = await Promise.all([readTopic(broker, topics.high), readTopic(broker, topics.low)])
      if (high.length + low.length >= 60 || Date.now() > deadline) break
      await sleep(200)
    }
    assertBranched(await readTopic(broker, topics.rides), high, low)
  } finally {
    await Promise.all([printer.stop(), branch.stop()])
    const transport = openTransport(broker)
    await transport
      .admin()
      .deleteTopics(Object.values(topics))
      .catch(() => undefined)
    await transport.close()
  }
})

test('vendors counts rides per vendor into a table through a repartition, served over HTTP (memory:// and real Kafka)', async () => {
  for (const broker of [privateBroker(), testBroker()]) {
    const id = randomUUID().slice(0, 8)
    const { app, rides: topic } = buildVendorsApp({
      broker,
      id: `taxi-vendors-${id}`,
      topic: `taxi-rides-${id}`,
      web: { port: 0 },
    })
    const rides = generateRides({ rows: 120, seed: 7 })
    const expected = new Map<string, number>()
    for (const ride of rides)
      expected.set(String(ride.VendorID), (expected.get(String(ride.VendorID)) ?? 0) + 1)
    await app.start()
    try {
      await sendRides(topic, rides, { rate: Infinity })
      let last = new Map<string, number>()
      await waitUntil(
        `the counts per vendor on ${broker}`,
        async () => {
          const found = new Map<string, number>()
          for (const vendor of expected.keys()) {
            const response = await fetch(`${app.opsUrl}/tables/${VENDOR_TABLE}/${vendor}`)
            if (response.status === 200)
              found.set(vendor, ((await response.json()) as { value: number }).value)
          }
          last = found
          return [...expected].every(([v, n]) => found.get(v) === n)
        },
        60_000,
      )
      assert.deepEqual(last, expected)
    } finally {
      await app.stop()
    }
  }
})

test('per-minute counts rides per vendor in one-minute windows of their pickup time, each minute once, the last by the idle timeout', async (t) => {
  const { app, rides, perMinute } = buildPerMinuteApp({ id: 'per-minute', idleMs: 5_000 })
  const driver = await TestDriver.start(app)
  t.after(() => driver.close())
  const generated = generateRides({ rows: 200 })
  // Sent now, in any order of arrival: the windows follow the pickup time, not the send time.
  for (const ride of generated) await driver.pipe(rides, { key: String(ride.VendorID), value: ride })
  await driver.advanceTime(5_000)
  const expected = new Map<string, number>()
  for (const ride of generated) {
    const minute = Math.floor(Date.parse(`${ride.tpep_pickup_datetime.replace(' ', 'T')}Z`) / 60_000) * 60_000
    const key = `${ride.VendorID}@${new Date(minute).toISOString()}`
    expected.set(key, (expected.get(key) ?? 0) + 1)
  }
  const emitted = (await driver.read(perMinute)).map(
    (r) => [`${r.key}@${new Date(r.value.start).toISOString()}`, r.value.value] as const,
  )
  assert.equal(emitted.length, expected.size, 'each vendor-minute once')
  assert.deepEqual(new Map(emitted), expected)
})

test('the per-minute command on memory:// feeds itself and prints every minute of every vendor', async () => {
  const { stdout } = await example('per-minute', ['--rows', '50', '--fast'])
  const counted = [...stdout.matchAll(/: (\d+) rides?$/gm)].reduce((n, m) => n + Number(m[1]), 0)
  assert.equal(counted, 50, stdout)
  assert.match(stdout, /^vendor [12], the minute from 2020-07-01T00:00:00.000Z: \d+ rides?$/m)
})
