/** Branch by price: rides with total_amount >= 40 go to `rides-high-amount`, the others to `rides-low-amount`, bytes untouched. */
import { App } from '../../src/index.js'
import { DEFAULT_BROKER, FEEDING_USAGE, OPTIONS, isMain, main, parseOptions, rateOf } from './cli.js'
import { buildPrinterApp } from './printer.js'
import { runWithProducer } from './producer.js'
import { declareRides } from './ride.js'

export const HIGH_AMOUNT = 40

export interface BranchTopics {
  rides: string
  high: string
  low: string
}

export const BRANCH_TOPICS: BranchTopics = {
  rides: 'rides',
  high: 'rides-high-amount',
  low: 'rides-low-amount',
}

export interface BranchAppOptions {
  /** @default memory:// */
  broker?: string
  /** @default 'taxi-branch' */
  id?: string
  topics?: Partial<BranchTopics>
}

export function buildBranchApp(options: BranchAppOptions = {}): App {
  const names = { ...BRANCH_TOPICS, ...options.topics }
  const app = new App({
    id: options.id ?? 'taxi-branch',
    broker: options.broker ?? DEFAULT_BROKER,
    web: false,
  })
  const rides = declareRides(app, names.rides)
  const high = declareRides(app, names.high)
  const low = declareRides(app, names.low)
  const routed = rides.stream().branch([[(ride) => ride.total_amount >= HIGH_AMOUNT, high]], low)
  app.agent('branch-by-amount', routed, async (stream) => {
    for await (const _ of stream) {
      // Never reached: with a fallback topic, branch routes every ride and passes none on.
    }
  })
  return app
}

const USAGE = `
Usage: tsx examples/taxi/branch.ts [options]

Sends rides of $40 or more to rides-high-amount and the others to rides-low-amount (the original bytes).

${FEEDING_USAGE}`

if (isMain(import.meta.url)) {
  main(async () => {
    const values = parseOptions(OPTIONS, USAGE)
    const broker = values.broker ?? DEFAULT_BROKER
    const topics = { ...BRANCH_TOPICS, ...(values.topic ? { rides: values.topic } : {}) }
    const app = buildBranchApp({ broker, topics })
    if (!broker.startsWith('memory://')) return app.run()
    // On memory:// nothing outside this process sees the branches: print them here.
    const counts = { high: 0, low: 0 }
    const printers = (['high', 'low'] as const).map((side) =>
      buildPrinterApp({
        broker,
        id: `taxi-print-${side}`,
        topic: topics[side],
        print: (line) => (console.log(line), counts[side]++),
      }),
    )
    const rate = rateOf(values)
    const done = (n: number): boolean => counts.high + counts.low >= n
    const sent = await runWithProducer(
      [app, ...printers],
      { ...values, broker, topic: topics.rides, rate },
      done,
    )
    console.error(`${sent} rides: ${counts.high} to ${topics.high}, ${counts.low} to ${topics.low}`)
  })
}
