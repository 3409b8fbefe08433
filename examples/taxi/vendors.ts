/**
 * Count rides per vendor: the rides are grouped by VendorID (a repartition topic) and counted into
 * the table `rides-per-vendor`, which every worker serves over HTTP: GET /tables/rides-per-vendor/<id>.
 */
import { App, string } from '../../src/index.js'
import { DEFAULT_BROKER, FEEDING_USAGE, OPTIONS, isMain, main, parseOptions, rateOf } from './cli.js'
import { runWithProducer } from './producer.js'
import { declareRides } from './ride.js'

export const VENDOR_TABLE = 'rides-per-vendor'

export interface VendorsAppOptions {
  /** @default memory:// */
  broker?: string
  /** @default 'taxi-vendors' */
  id?: string
  /** @default 'rides' */
  topic?: string
  /** The ops server, where the table is served. @default { port: 6066 } */
  web?: { port?: number; host?: string }
  /** @default memory:// (restored in full at start); lmdb:// keeps it on disk */
  store?: string
}

export function buildVendorsApp(options: VendorsAppOptions = {}) {
  const app = new App({
    id: options.id ?? 'taxi-vendors',
    broker: options.broker ?? DEFAULT_BROKER,
    web: options.web ?? { port: 6066 },
    ...(options.store ? { store: options.store } : {}),
  })
  const rides = declareRides(app, options.topic ?? 'rides')
  const perVendor = app.table<string, number>(VENDOR_TABLE, { default: 0 })
  const byVendor = rides
    .stream()
    .groupBy((ride) => String(ride.VendorID), { name: 'by-vendor', key: string as never })
  app.agent(
    'count-per-vendor',
    byVendor,
    async (stream) => {
      for await (const ride of stream) perVendor.update(ride.key, (n) => n + 1)
    },
    { tables: [perVendor] },
  )
  return { app, rides, perVendor }
}

const USAGE = `
Usage: tsx examples/taxi/vendors.ts [options]

Counts rides per vendor (grouped by VendorID through a repartition topic) into the table
${VENDOR_TABLE}, served by the worker: curl http://127.0.0.1:<port>/tables/${VENDOR_TABLE}/1

  --port <n>       the ops server's port (default 6066)
${FEEDING_USAGE}`

if (isMain(import.meta.url)) {
  main(async () => {
    const values = parseOptions({ ...OPTIONS, port: { type: 'string' } }, USAGE)
    const broker = values.broker ?? DEFAULT_BROKER
    const port = values.port === undefined ? 6066 : Number(values.port)
    const { app, perVendor } = buildVendorsApp({
      broker,
      web: { port },
      ...(values.topic ? { topic: values.topic } : {}),
    })
    if (!broker.startsWith('memory://')) return app.run()
    // On memory:// it feeds itself, then asks its own HTTP endpoint for each vendor's count.
    const topic = values.topic ?? 'rides'
    const counted = (): number => [...perVendor.entries()].reduce((n, [, c]) => n + c, 0)
    let answers: string[] = []
    await runWithProducer(
      [app],
      { ...values, broker, topic, rate: rateOf(values) },
      (sent) => {
        if (counted() < sent) return false
        answers = [...perVendor.entries()].map(([vendor]) => vendor).sort()
        return true
      },
      async () => {
        for (const vendor of answers) {
          const response = await fetch(`${app.opsUrl}/tables/${VENDOR_TABLE}/${vendor}`)
          const body = (await response.json()) as { value: number }
          console.log(
            `vendor ${vendor}: ${body.value} rides (GET ${app.opsUrl}/tables/${VENDOR_TABLE}/${vendor})`,
          )
        }
      },
    )
  })
}
