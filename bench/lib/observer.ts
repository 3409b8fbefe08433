/**
 * The bench's observer process: `node --import tsx bench/lib/observer.ts BROKER`. It takes one watch
 * at a time over stdin and looks at the broker every POLL_MS until the count is reached:
 *
 *   watch {"id":1,"observation":{...},"expected":N}  ->  count 1 N ... then  done 1 EPOCH_MS
 *   cancel 1                                          ->  (stops looking)
 *
 * EPOCH_MS is the wall-clock time (sub-millisecond) when the completing answer arrived, taken here
 * so that a busy bench process cannot delay any subject's clock.
 */
import { createInterface } from 'node:readline'
import { openTransport } from '../../src/transport/index.js'
import { epochMs, observe, type Observation } from './watch.js'

/** The clock's resolution; a look costs about 2 ms of CPU, so 20 ms keeps this process near 10% of a core. */
const POLL_MS = 20
/** A count line at least this often, so the bench can show progress and tell a stall. */
const REPORT_MS = 250

const broker = process.argv[2]
if (!broker) throw new Error('usage: observer.ts BROKER')
const admin = openTransport(`kafka://${broker}`).admin()
let current = 0

async function watch(id: number, observation: Observation, expected: number): Promise<void> {
  const look = observe(admin, observation)
  let reported = 0
  while (current === id) {
    const count = await look()
    const at = epochMs()
    if (count >= expected) {
      console.log(`done ${id} ${at}`)
      return
    }
    if (at - reported >= REPORT_MS) {
      console.log(`count ${id} ${count}`)
      reported = at
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const [verb, rest] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)]
    if (verb === 'cancel') current = 0
    if (verb !== 'watch') return
    const { id, observation, expected } = JSON.parse(rest) as {
      id: number
      observation: Observation
      expected: number
    }
    current = id
    watch(id, observation, expected).catch((error: unknown) =>
      console.log(`error ${id} ${String(error).replace(/\n/g, ' ')}`),
    )
  })
  .on('close', () => process.exit(0))
console.log('ready')
