/** Deterministic synthetic taxi rides as CSV, same columns as the course file: `data.ts --rows 1000 --seed 2020 > rides.csv`. */
import { OPTIONS, count, isMain, main, parseOptions } from './cli.js'
import { AMOUNT_PARTS, COLUMNS, type Ride } from './ride.js'

/** mulberry32: a tiny seeded PRNG giving floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = Math.imul(state ^ (state >>> 15), state | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface GenerateOptions {
  rows: number
  /** @default 2020 */
  seed?: number
  /** The first pickup time (UTC). @default '2020-07-01T00:00:00Z' */
  start?: string
}

const JFK = 132
/** Kafka-course style timestamps: 'YYYY-MM-DD hh:mm:ss'. */
const stamp = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ')

/** Generates rides; money is reckoned in cents, so total_amount is exactly the sum of its parts. */
export function generateRides({
  rows,
  seed = 2020,
  start = '2020-07-01T00:00:00Z',
}: GenerateOptions): Ride[] {
  const random = mulberry32(seed)
  const chance = (p: number): boolean => random() < p
  const between = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1))
  const rides: Ride[] = []
  let pickup = Date.parse(start)
  for (let i = 0; i < rows; i++) {
    pickup += between(0, 20) * 1000
    const airport = chance(0.06) // the JFK flat fare: these and the long trips make the >= $40 rides
    const miles100 = airport ? between(1500, 2100) : Math.max(10, Math.round(-Math.log(1 - random()) * 280))
    const seconds = Math.round((miles100 / 100 / between(7, 22)) * 3600) + between(60, 300)
    const payment = random() < 0.7 ? 1 : chance(0.9) ? 2 : between(3, 4)
    const hour = new Date(pickup).getUTCHours()
    const cents = {
      fare_amount: airport ? 5200 : 250 + 50 * (Math.round(miles100 / 20) + Math.round(seconds / 200)),
      extra: hour >= 20 || hour < 6 ? 50 : hour >= 16 ? 100 : 0,
      mta_tax: 50,
      tip_amount: 0,
      tolls_amount: chance(airport ? 0.5 : 0.04) ? 612 : 0,
      improvement_surcharge: 30,
      congestion_surcharge: chance(0.85) ? 250 : 0,
    }
    if (payment === 1) cents.tip_amount = Math.round(cents.fare_amount * (0.1 + random() * 0.15))
    const total = AMOUNT_PARTS.reduce((sum, part) => sum + cents[part], 0)
    const fromAirport = chance(0.5)
    rides.push({
      VendorID: chance(0.35) ? 1 : 2,
      tpep_pickup_datetime: stamp(pickup),
      tpep_dropoff_datetime: stamp(pickup + seconds * 1000),
      passenger_count: chance(0.7) ? 1 : between(0, 6),
      trip_distance: miles100 / 100,
      RatecodeID: airport ? 2 : 1,
      store_and_fwd_flag: chance(0.01) ? 'Y' : 'N',
      PULocationID: airport && fromAirport ? JFK : between(1, 263),
      DOLocationID: airport && !fromAirport ? JFK : between(1, 263),
      payment_type: payment,
      fare_amount: cents.fare_amount / 100,
      extra: cents.extra / 100,
      mta_tax: cents.mta_tax / 100,
      tip_amount: cents.tip_amount / 100,
      tolls_amount: cents.tolls_amount / 100,
      improvement_surcharge: cents.improvement_surcharge / 100,
      total_amount: total / 100,
      congestion_surcharge: cents.congestion_surcharge / 100,
    })
  }
  return rides
}

const MONEY = new Set<string>([...AMOUNT_PARTS, 'total_amount', 'trip_distance'])

/** The rides as CSV text: a header line, then one line per ride, each ending in a newline. */
export function toCsv(rides: Iterable<Ride>): string {
  const lines = [COLUMNS.join(',')]
  for (const ride of rides) {
    lines.push(
      COLUMNS.map((c) => (MONEY.has(c) ? (ride[c] as number).toFixed(2) : String(ride[c]))).join(','),
    )
  }
  return `${lines.join('\n')}\n`
}

export function generateCsv(options: GenerateOptions): string {
  return toCsv(generateRides(options))
}

const USAGE = `
Usage: tsx examples/taxi/data.ts [--rows n] [--seed n] > rides.csv

Writes a synthetic taxi-ride CSV with the course's 18 columns to stdout.

  --rows <n>   rows (default 1000)
  --seed <n>   seed: the same seed gives the same rows (default 2020)
  -h, --help   this help
`

if (isMain(import.meta.url)) {
  main(() => {
    const values = parseOptions({ rows: OPTIONS.rows, seed: OPTIONS.seed }, USAGE)
    const rows = count('--rows', values.rows ?? '1000', 0)
    process.stdout.write(generateCsv({ rows, seed: count('--seed', values.seed ?? '2020', 0) }))
  })
}
