/** Command-line plumbing shared by the taxi examples: options, --help, checks, main-module detection, waiting. */
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { parseArgs, type ParseArgsConfig } from 'node:util'

/**
 * The broker every example uses unless --broker names one: the embedded broker, so that each runs
 * with no infrastructure (`npm run kafka:start` then `--broker kafka://127.0.0.1:19092` for Kafka).
 */
export const DEFAULT_BROKER = 'memory://'

/** The options every example takes, for node:util parseArgs. */
export const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  broker: { type: 'string' },
  topic: { type: 'string' },
  file: { type: 'string' },
  rows: { type: 'string' },
  seed: { type: 'string' },
  rate: { type: 'string' },
  fast: { type: 'boolean' },
} as const

/**
 * Parses the example's options (some of OPTIONS): `--help` prints `usage` and exits; an unknown
 * option prints what was wrong and the usage, and exits with 2.
 */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(
  options: T,
  usage: string,
): ReturnType<typeof parseArgs<{ options: T }>>['values'] {
  let values
  try {
    values = parseArgs({ options: { ...options, help: OPTIONS.help } }).values
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${usage.trim()}\n`)
    process.exit(2)
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(`${usage.trim()}\n`)
    process.exit(0)
  }
  return values as ReturnType<typeof parseArgs<{ options: T }>>['values']
}

/** The usage lines of the options every example shares. */
export const COMMON_USAGE = `
  --broker <url>   kafka://host:port, or memory:// (the default: the embedded broker, in this process)
  -h, --help       this help`

/** True when the module at `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1]
  return script !== undefined && pathToFileURL(resolve(script)).href === moduleUrl
}

/** A whole number >= min from an option's text. */
export function count(flag: string, text: string, min = 1): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${flag} must be a whole number >= ${min}, got "${text}"`)
  return n
}

/** Rows per second: `--fast` is as fast as the broker takes them, `--rate n`, or the course's 1 row/s. */
export function rateOf(values: { rate?: string | undefined; fast?: boolean | undefined }): number {
  if (values.fast) return Infinity
  if (values.rate === undefined) return 1
  const rate = Number(values.rate)
  if (!(rate > 0)) throw new Error(`--rate must be a number of rows per second > 0, got "${values.rate}"`)
  return rate
}

/** Resolves once `done()` holds; rejects after `timeoutMs`, naming `what`. */
export async function until(done: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
}

/** Runs a command's main function: an error goes to stderr and sets a failing exit code. */
export function main(run: () => unknown): void {
  Promise.resolve()
    .then(run)
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error)
      process.exitCode = 1
    })
}

/** The options and behaviour of the examples that consume (printer, branch): on memory:// they feed themselves. */
export const FEEDING_USAGE = `
  --topic <name>   the rides topic (default rides)
  --file <csv>     on memory://: the rides CSV to feed itself (default: --rows generated rows)
  --rows <n>       on memory://: generated rows (default 1000)
  --seed <n>       seed of the generated rows (default 2020)
  --rate <n>       on memory://: rows per second fed (default 1)
  --fast           on memory://: feed as fast as it can${COMMON_USAGE}

On memory:// it runs whole in this process: it feeds itself the rides and stops after the last.
On Kafka it runs until Ctrl-C.
`
