/**
 * `npm run bench -- <name> [options]`: runs a benchmark against the real broker (started here when
 * none is given in TRIBUTARY_BENCH_BROKER and none runs) and writes bench/results/<name>.{json,svg}.
 * Options: --records N, --rounds N (>= 5), --warmup N (>= 1), --only TEXT (a subset of the subjects,
 * e.g. to profile one: its results are printed, not written), and each bench's own.
 */
import { defaultPort, startBroker, stopBroker } from '../scripts/kafka/broker.js'
import { table, writeReport, type Report } from './lib/report.js'

const benches: Record<
  string,
  () => Promise<{ default: (broker: string, args: string[]) => Promise<Report> }>
> = {
  transport: () => import('./transport.js'),
  pipeline: () => import('./pipeline.js'),
  tables: () => import('./tables.js'),
}

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2)
  const load = name ? benches[name] : undefined
  if (!load)
    throw new Error(
      `Usage: npm run bench -- <${Object.keys(benches).join('|')}> [--records N] [--rounds N] [--warmup N] [--only TEXT]`,
    )
  let broker = process.env.TRIBUTARY_BENCH_BROKER
  let started = false
  if (!broker) {
    const info = await startBroker(defaultPort())
    started = info.started
    broker = `127.0.0.1:${info.port}`
  }
  try {
    const report = await (await load()).default(broker.replace(/^kafka:\/\//, ''), args)
    const partial = args.includes('--only')
    const files = partial ? [] : writeReport(report)
    console.log(`\n${table(report)}\n\n${partial ? 'not written (--only)' : `written: ${files.join(', ')}`}`)
  } finally {
    if (started) await stopBroker()
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error)
  process.exit(1)
})
