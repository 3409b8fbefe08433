/** The stream printer: an agent that prints each ride of topic `rides` with its key, partition, offset and a summary. */
import { App, type Event } from '../../src/index.js'
import { DEFAULT_BROKER, FEEDING_USAGE, OPTIONS, isMain, main, parseOptions, rateOf } from './cli.js'
import { runWithProducer } from './producer.js'
import { declareRides, type Ride } from './ride.js'

export interface PrinterAppOptions {
  /** @default memory:// */
  broker?: string
  /** @default 'taxi-printer' */
  id?: string
  /** @default 'rides' */
  topic?: string
  /** Where the lines go. @default console.log */
  print?: (line: string) => void
}

export function buildPrinterApp(options: PrinterAppOptions = {}): App {
  const app = new App({
    id: options.id ?? 'taxi-printer',
    broker: options.broker ?? DEFAULT_BROKER,
    web: false,
  })
  const rides = declareRides(app, options.topic)
  const print = options.print ?? console.log
  app.agent('print-rides', rides, async (stream) => {
    for await (const event of stream) print(describeRide(event))
  })
  return app
}

const PAYMENT = ['?', 'card', 'cash', 'no charge', 'dispute', 'unknown', 'voided']

/** One line per ride: where it was (topic[partition]@offset, key), then when, how far and how much. */
export function describeRide({
  topic,
  partition,
  offset,
  key,
  value: r,
}: Event<string | null, Ride>): string {
  return [
    `${topic}[${partition}]@${offset} key=${key}`,
    `${r.tpep_pickup_datetime} -> ${r.tpep_dropoff_datetime.slice(11)}`,
    `${r.trip_distance.toFixed(2)} mi ${r.PULocationID} -> ${r.DOLocationID}`,
    `${r.passenger_count} pax`,
    `$${r.total_amount.toFixed(2)} ${PAYMENT[r.payment_type] ?? '?'}`,
  ].join('  ')
}

const USAGE = `
Usage: tsx examples/taxi/printer.ts [options]

Prints every ride of a topic, one line each: coordinates, times, distance, passengers, amount.

${FEEDING_USAGE}`

if (isMain(import.meta.url)) {
  main(async () => {
    const values = parseOptions(OPTIONS, USAGE)
    const broker = values.broker ?? DEFAULT_BROKER
    const topic = values.topic ?? 'rides'
    let printed = 0
    const app = buildPrinterApp({ broker, topic, print: (line) => (console.log(line), printed++) })
    if (!broker.startsWith('memory://')) return app.run()
    const sent = await runWithProducer(
      [app],
      { ...values, broker, topic, rate: rateOf(values) },
      (n) => printed >= n,
    )
    console.error(`printed ${printed} of ${sent} rides (memory:// runs the producer in this process)`)
  })
}
