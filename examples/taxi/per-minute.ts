/**
 * Rides per vendor per minute: the rides are grouped by VendorID and counted in tumbling one-minute
 * windows on their pickup time (the tpep_pickup_datetime field, not the time they were sent). Each
 * minute's final count is written once to `rides-per-vendor-per-minute` when the rides' time has
 * passed it; a minute still open when the rides stop is closed by the idle timeout.
 */
import { App, json, string, tumbling, type WindowValue } from '../../src/index.js'
import { DEFAULT_BROKER, FEEDING_USAGE, OPTIONS, isMain, main, parseOptions, rateOf } from './cli.js'
import { runWithProducer } from './producer.js'
import { declareRides } from './ride.js'

export const PER_MINUTE_TOPIC = 'rides-per-vendor-per-minute'

export interface PerMinuteAppOptions {
  /** @default memory:// */
  broker?: string
  /** @default 'taxi-per-minute' */
  id?: string
  /** @default 'rides' */
  topic?: string
  /** Closes the open minutes after this long without a ride. @default 5000 */
  idleMs?: number
  /** Called with each closed minute. */
  onMinute?: (vendor: string, start: number, rides: number) => void
}

export function buildPerMinuteApp(options: PerMinuteAppOptions = {}) {
  const app = new App({
    id: options.id ?? 'taxi-per-minute',
    broker: options.broker ?? DEFAULT_BROKER,
    web: false,
  })
  const rides = declareRides(app, options.topic ?? 'rides')
  const perMinute = app.topic(PER_MINUTE_TOPIC, { key: string, value: json<WindowValue<number>>() })
  const counts = app.windowedTable<string | null, number>('rides-per-vendor-per-minute', {
    windows: tumbling(60_000),
    time: { field: 'tpep_pickup_datetime' },
    initial: 0,
    closed: perMinute,
    idleMs: options.idleMs ?? 5_000,
    onWindowClose: (vendor, window, n) => options.onMinute?.(String(vendor), window.start, n),
  })
  const byVendor = rides
    .stream()
    .groupBy((ride) => String(ride.VendorID), { name: 'by-vendor', key: string as never })
  app.agent(
    'count-per-minute',
    byVendor,
    async (stream) => {
      for await (const ride of stream) counts.update(ride.key, (n) => n + 1)
    },
    { tables: [counts] },
  )
  return { app, rides, perMinute, counts }
}

const USAGE = `
Usage: tsx examples/taxi/per-minute.ts [options]

Counts rides per vendor in one-minute windows of their pickup time, and writes each minute's
final count once to ${PER_MINUTE_TOPIC} (the open minutes close 5 s after the last ride).
${FEEDING_USAGE}`

if (isMain(import.meta.url)) {
  main(async () => {
    const values = parseOptions(OPTIONS, USAGE)
    const broker = values.broker ?? DEFAULT_BROKER
    let closed = 0
    const { app } = buildPerMinuteApp({
      broker,
      ...(values.topic ? { topic: values.topic } : {}),
      onMinute: (vendor, start, rides) => {
        closed += rides
        console.log(
          `vendor ${vendor}, the minute from ${new Date(start).toISOString()}: ${rides} ride${rides === 1 ? '' : 's'}`,
        )
      },
    })
    if (!broker.startsWith('memory://')) return app.run()
    // On memory:// it feeds itself, and stops once every ride is in a closed minute (the last
    // minutes close by the idle timeout, 5 s after the last ride).
    await runWithProducer(
      [app],
      { ...values, broker, topic: values.topic ?? 'rides', rate: rateOf(values) },
      (sent) => closed >= sent,
    )
  })
}
