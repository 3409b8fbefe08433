/** The taxi ride: the 18 columns of the NYC yellow-taxi course file, read from CSV with csv-parse. */
import { createReadStream } from 'node:fs'
import { pipeline } from 'node:stream'
import { parse } from 'csv-parse'
import { parse as parseSync } from 'csv-parse/sync'
import { json, string, type App, type Topic } from '../../src/index.js'

export interface Ride {
  VendorID: number
  tpep_pickup_datetime: string
  tpep_dropoff_datetime: string
  passenger_count: number
  trip_distance: number
  RatecodeID: number
  store_and_fwd_flag: string
  PULocationID: number
  DOLocationID: number
  payment_type: number
  fare_amount: number
  extra: number
  mta_tax: number
  tip_amount: number
  tolls_amount: number
  improvement_surcharge: number
  total_amount: number
  congestion_surcharge: number
}

/** Each column's kind, in file order (the type makes sure no column is missing). */
const KINDS: { [C in keyof Ride]: Ride[C] extends number ? 'number' : 'text' } = {
  VendorID: 'number',
  tpep_pickup_datetime: 'text',
  tpep_dropoff_datetime: 'text',
  passenger_count: 'number',
  trip_distance: 'number',
  RatecodeID: 'number',
  store_and_fwd_flag: 'text',
  PULocationID: 'number',
  DOLocationID: 'number',
  payment_type: 'number',
  fare_amount: 'number',
  extra: 'number',
  mta_tax: 'number',
  tip_amount: 'number',
  tolls_amount: 'number',
  improvement_surcharge: 'number',
  total_amount: 'number',
  congestion_surcharge: 'number',
}

/** The header of the course file, in order. */
export const COLUMNS = Object.keys(KINDS) as ReadonlyArray<keyof Ride>

/** The components that add up to total_amount. */
export const AMOUNT_PARTS = [
  'fare_amount',
  'extra',
  'mta_tax',
  'tip_amount',
  'tolls_amount',
  'improvement_surcharge',
  'congestion_surcharge',
] as const satisfies ReadonlyArray<keyof Ride>

/** Partitions of the rides topics: with Kafka's murmur2, VendorIDs 1 and 2 land on different ones. */
export const RIDES_PARTITIONS = 2

/** Turns one CSV record (column name -> text) into a Ride; `row` (1-based) names it in errors. */
export function toRide(record: Record<string, string | undefined>, row: number): Ride {
  const ride: Record<string, string | number> = {}
  for (const column of COLUMNS) {
    const text = record[column]?.trim()
    if (text === undefined) throw new Error(`rides CSV row ${row}: no column ${column}`)
    if (KINDS[column] === 'text') {
      ride[column] = text
      continue
    }
    const value = Number(text)
    if (text === '' || !Number.isFinite(value))
      throw new Error(`rides CSV row ${row}: ${column} is "${text}", not a number`)
    ride[column] = value
  }
  return ride as unknown as Ride
}

/** Parses a whole CSV text (with its header line). */
export function parseRides(csv: string): Ride[] {
  const records = parseSync<Record<string, string>>(csv, { columns: true, skip_empty_lines: true })
  return records.map((record, i) => toRide(record, i + 1))
}

/** Streams the rides of a CSV file, one at a time (any size of file). */
export async function* readRides(path: string): AsyncGenerator<Ride> {
  const parser = parse({ columns: true, skip_empty_lines: true })
  // pipeline (not pipe) passes a read error, e.g. no such file, on to the parser and so to the loop.
  pipeline(createReadStream(path), parser, () => undefined)
  let row = 0
  for await (const record of parser as AsyncIterable<Record<string, string>>) yield toRide(record, ++row)
}

/** Declares the rides topic on an app: VendorID as a string key, the ride as JSON. */
export function declareRides(app: App, name = 'rides'): Topic<string | null, Ride> {
  return app.topic(name, { key: string, value: json<Ride>(), partitions: RIDES_PARTITIONS })
}

/** The Kafka key of a ride. */
export function rideKey(ride: Ride): string {
  return String(ride.VendorID)
}
