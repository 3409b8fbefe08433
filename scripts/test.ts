/**
 * `npm test`: runs every test file under test/ with node:test, against a real Apache Kafka broker.
 * TRIBUTARY_TEST_BROKER names one (kafka://host:port); without it, the project's own broker is
 * started (scripts/kafka) and stopped again afterwards if this run started it.
 *
 *   npm test                      all tests
 *   npm test -- test/cli          only files under these paths
 *
 * Files named `*.serial.*.test.ts` (crash tests that run several worker processes) run after the
 * others, one at a time: beside them, the tests that bound how long something takes would measure
 * a machine busy with them.
 */
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { SASL_PASSWORD, SASL_USER, startBroker, stopBroker } from './kafka/broker.js'

function testFiles(root: string): string[] {
  if (statSync(root).isFile()) return [root]
  return readdirSync(root, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(root, entry.name)
      if (entry.isDirectory()) return testFiles(path)
      return entry.name.endsWith('.test.ts') ? [path] : []
    })
}

async function main(): Promise<number> {
  const roots = process.argv.slice(2).filter((arg) => !arg.startsWith('-'))
  const files = (roots.length ? roots : ['test']).flatMap((root) => testFiles(resolve(root)))
  if (files.length === 0) throw new Error(`No test files (*.test.ts) under ${roots.join(', ')}`)

  const env = { ...process.env }
  let started = false
  if (env.TRIBUTARY_TEST_BROKER) {
    console.log(
      `Integration tests run against the Kafka broker given in TRIBUTARY_TEST_BROKER: ${env.TRIBUTARY_TEST_BROKER}`,
    )
    if (!env.TRIBUTARY_TEST_SASL_BROKER)
      console.log('TRIBUTARY_TEST_SASL_BROKER is not set: the SASL tests are skipped')
  } else {
    const info = await startBroker()
    started = info.started
    env.TRIBUTARY_TEST_BROKER = `kafka://127.0.0.1:${info.port}`
    env.TRIBUTARY_TEST_SASL_BROKER = `kafka://${SASL_USER}:${SASL_PASSWORD}@127.0.0.1:${info.saslPort}`
    console.log(
      `Integration tests run against the real Apache Kafka ${info.version} broker at ${env.TRIBUTARY_TEST_BROKER}` +
        (started ? ' (started for this run, stopped after it)' : ' (already running)'),
    )
  }

  console.log(`${files.length} test files: ${files.map((f) => relative(process.cwd(), f)).join(' ')}`)
  const serial = files.filter((f) => /\.serial\./.test(f))
  const parallel = files.filter((f) => !serial.includes(f))
  let code = parallel.length > 0 ? await run(parallel, 3, env) : 0
  if (serial.length > 0 && !interrupted) {
    console.log(`then, one at a time: ${serial.map((f) => relative(process.cwd(), f)).join(' ')}`)
    const serialCode = await run(serial, 1, env)
    if (code === 0) code = serialCode
  }
  if (started) await stopBroker()
  return code
}

let interrupted = false

/** Runs node:test on `files`, `concurrency` files at a time; resolves with its exit code. */
async function run(files: string[], concurrency: number, env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...files],
    { stdio: 'inherit', env },
  )
  const stop = (): void => {
    interrupted = true
    child.kill('SIGINT')
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  try {
    return await new Promise<number>((done) => child.on('exit', (c, signal) => done(c ?? (signal ? 1 : 0))))
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  },
)
