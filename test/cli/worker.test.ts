import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { App, json, string } from '../../src/index.js'
import { loadApp } from '../../src/cli/app-loader.js'
import { effectiveBroker, runWorker } from '../../src/cli/commands/worker.js'
import { run } from '../../src/cli/main.js'
import { openTransport } from '../../src/transport/index.js'
import type { Transport } from '../../src/transport/types.js'
import { testBroker } from '../helpers/broker.js'
import { readRecords } from '../transport/helpers.js'
import { Collector, repo, runCli, startCli } from './helpers.js'
import type { CliResult } from './helpers.js'

const broker = testBroker()
const taxi = join(repo, 'test/cli/fixtures/taxi.ts')

/** Env of a worker child whose app id and topics are its own (the fixture reads them). */
function fixtureEnv(extra: Record<string, string> = {}): {
  env: Record<string, string>
  prefix: string
  appId: string
} {
  const id = randomUUID().slice(0, 8)
  const prefix = `worker-${id}-`
  const appId = `worker-app-${id}`
  return { env: { TAXI_APP_ID: appId, TAXI_TOPIC_PREFIX: prefix, ...extra }, prefix, appId }
}

/** Resolves with the child's stderr once it matches `pattern`; rejects if the child exits first or time runs out. */
/** startCli's child and its outcome, as exitWithin takes them. */
function start(args: string[], env: Record<string, string> = {}): [ChildProcess, Promise<CliResult>] {
  const { child, done } = startCli(args, env)
  return [child, done]
}

function waitForStderr(child: ChildProcess, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const timer = setTimeout(
      () => finish(new Error(`no ${pattern} within ${timeoutMs} ms; stderr:\n${text}`)),
      timeoutMs,
    )
    const onData = (chunk: string | Buffer): void => {
      text += chunk.toString()
      if (pattern.test(text)) finish()
    }
    const onExit = (): void => finish(new Error(`the worker exited before ${pattern}; stderr:\n${text}`))
    function finish(error?: Error): void {
      clearTimeout(timer)
      child.stderr?.off('data', onData)
      child.off('exit', onExit)
      if (error) reject(error)
      else resolve(text)
    }
    child.stderr?.on('data', onData)
    child.once('exit', onExit)
  })
}

/**
 * Waits for the child to exit, at most `ms`; a child still running then is killed, so that a worker
 * that does not stop fails the test instead of hanging it.
 */
async function exitWithin(child: ChildProcess, done: Promise<CliResult>, ms: number): Promise<CliResult> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)))
  const first = await Promise.race([done, late])
  clearTimeout(timer)
  if (first !== 'late') return first
  child.kill('SIGKILL')
  const killed = await done
  assert.fail(`the worker was still running ${ms} ms later (killed); stderr:\n${killed.stderr}`)
}

const ride = (vendor: string, fare: number): Buffer => Buffer.from(JSON.stringify({ vendor, fare }))

describe(`tributary worker against Apache Kafka at ${broker}`, () => {
  let transport: Transport

  before(() => {
    transport = openTransport(broker)
  })

  after(async () => {
    await transport.close()
  })

  test('a worker processes the records sent to its topic, and SIGTERM stops it gracefully with exit 0', async () => {
    const { env, prefix, appId } = fixtureEnv()
    const workerId = `w-${randomUUID().slice(0, 8)}`
    const { child, done } = startCli(
      ['--broker', broker, 'worker', taxi, '--web-port', '0', '--worker-id', workerId],
      env,
    )
    try {
      const startup = await waitForStderr(child, /is running/)
      // The banner first (before the worker joins), then one line per rebalance, then the ready line.
      const lines = startup.trimEnd().split('\n')
      const time = '\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] INFO: '
      assert.match(
        lines[0]!,
        new RegExp(
          `^${time}Worker ${workerId} of app "${appId}" starting \\(pid \\d+\\): broker ${broker}; ` +
            `ops http://127\\.0\\.0\\.1:\\d+; at-least-once; group ${appId}$`,
        ),
      )
      assert.match(
        lines[1]!,
        new RegExp(`^  agent big-rides: reads ${prefix}rides, writes ${prefix}big-rides$`),
      )
      assert.match(lines[2]!, new RegExp(`^  agent by-vendor: reads ${prefix}rides`))
      const rebalance = lines.findIndex((l) => / generation \d+ /.test(l))
      assert.match(
        lines[rebalance]!,
        new RegExp(
          `^${time}worker ${workerId}: generation \\d+ \\(leader\\) assigns .*${prefix}rides\\[0,1\\].* \\(assigned .*, revoked none\\)$`,
        ),
      )
      assert.match(
        lines.at(-1)!,
        new RegExp(`^${time}Worker ${workerId} is running\\. SIGTERM or Ctrl-C stops it gracefully\\.$`),
      )
      assert.ok(rebalance < lines.length - 1, startup)
      const opsUrl = /ops (http:\/\/\S+);/.exec(startup)![1]!
      const producer = transport.producer()
      const fares: Array<[string, number]> = [
        ['v1', 5],
        ['v2', 25],
        ['v1', 30],
        ['v2', 0],
        ['v1', 50],
        ['v2', 10],
      ]
      await producer.send(
        fares.map(([vendor, fare], i) => ({
          topic: `${prefix}rides`,
          key: Buffer.from(`r${i}`),
          value: ride(vendor, fare),
        })),
      )
      await producer.close()

      const big = await readRecords(transport, `${prefix}big-rides`, 3, 60_000)
      assert.deepEqual(
        big
          .map((r) => JSON.parse(r.value!.toString()) as { fare: number })
          .map((r) => r.fare)
          .sort((a, b) => a - b),
        [25, 30, 50],
      )
      const counts = await readRecords(transport, `${prefix}vendor-counts`, 5, 60_000)
      const last = new Map(counts.map((r) => [r.key!.toString(), Number(r.value!.toString())]))
      assert.deepEqual(Object.fromEntries(last), { V1: 3, V2: 2 })
      const health = await fetch(`${opsUrl}/health`)
      assert.equal(health.status, 200)
    } finally {
      const stopping = Date.now()
      child.kill('SIGTERM')
      const result = await exitWithin(child, done, 15_000)
      assert.equal(result.code, 0, result.stderr)
      assert.ok(Date.now() - stopping < 10_000, `stopping took ${Date.now() - stopping} ms`)
      assert.match(
        result.stderr,
        new RegExp(
          `Worker ${workerId} of app "${appId}" stopped: processed records committed, group left\\.\\n$`,
        ),
      )
    }
    // The graceful stop committed every record of the source topic.
    const committed = await transport.admin().listGroupOffsets(appId)
    const rides = committed.filter((o) => o.topic === `${prefix}rides`)
    assert.equal(
      rides.reduce((sum, o) => sum + o.offset, 0),
      6,
    )
  })

  test('a worker whose app fails on a malformed record exits 1 naming topic, partition and offset', async () => {
    const { env, prefix } = fixtureEnv({ TAXI_ERRORS: 'fail' })
    const { child, done } = startCli(['--broker', broker, 'worker', taxi, '--no-web'], env)
    try {
      await waitForStderr(child, /is running/)
      const producer = transport.producer()
      const topic = `${prefix}rides`
      await producer.send([{ topic, partition: 0, key: Buffer.from('ok'), value: ride('v1', 30) }])
      await producer.send([{ topic, partition: 0, key: Buffer.from('bad'), value: Buffer.from('not json') }])
      await producer.close()
    } catch (error) {
      child.kill('SIGKILL')
      throw error
    }
    const result = await exitWithin(child, done, 60_000)
    assert.equal(result.code, 1, result.stderr)
    const lines = result.stderr.trimEnd().split('\n')
    // The error line, then where it came from and its cause chain (indented).
    const errorLine = lines.findIndex((line) => line.startsWith('error: '))
    assert.ok(
      lines.slice(errorLine + 1).every((line) => line.startsWith('  ')),
      result.stderr,
    )
    assert.match(
      lines[errorLine]!,
      new RegExp(
        `^error: agent "big-rides" on ${prefix}rides\\[0\\]: record ${prefix}rides\\[0\\]@1 could not be decoded: the value could not be decoded with codec json: .*not valid JSON`,
      ),
    )
    // Printed once, as the command's error line, not also as a log line of the worker.
    assert.equal(lines.filter((line) => line.includes('agent "big-rides"')).length, 1, result.stderr)
  })

  test('on memory:// the worker runs the app and its embedded broker in its own process', async () => {
    const { child, done } = startCli(['--broker', `memory://${randomUUID()}`, 'worker', taxi, '--no-web'])
    const startup = await waitForStderr(child, /is running/).catch((error: unknown) => {
      child.kill('SIGKILL')
      throw error
    })
    assert.match(
      startup,
      /broker memory:\/\/[0-9a-f-]+ \(embedded: the broker runs inside this worker process, and nothing outside it can reach it\); ops off;/,
    )
    child.kill('SIGTERM')
    const result = await exitWithin(child, done, 15_000)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /stopped: processed records committed, group left\.\n$/)
  })
})

describe('tributary worker, in process', () => {
  test('runWorker applies the overrides, processes records on memory:// and stops when its signal is aborted', async () => {
    const { app } = await loadApp(taxi)
    const err = new Collector()
    const controller = new AbortController()
    const url = `memory://worker-${randomUUID()}`
    const running = runWorker(
      app,
      { broker: url, web: false, workerId: 'in-process' },
      { err, signal: controller.signal },
    )
    const deadline = Date.now() + 20_000
    while (!err.text().includes('is running')) {
      assert.ok(Date.now() < deadline, err.text())
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.equal(app.settings.broker, url)
    assert.equal(app.settings.workerId, 'in-process')
    const rides = app.topics.get('rides')!
    for (const fare of [10, 20, 30]) await rides.send({ key: `r${fare}`, value: { vendor: 'v', fare } })
    while ((app.worker?.counts.get('big-rides')?.out ?? 0) < 2) {
      assert.ok(Date.now() < deadline, JSON.stringify([...(app.worker?.counts ?? [])]))
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    controller.abort()
    const summary = await running
    assert.deepEqual(summary, { appId: 'taxi', workerId: 'in-process', broker: url, opsUrl: undefined })
    // Off a terminal, the log is JSON lines, each with what it is about.
    const logs = err.lines().map((line) => JSON.parse(line) as Record<string, unknown>)
    const starting = logs[0]!
    assert.equal(starting.level, 'info')
    assert.equal(starting.event, 'starting')
    assert.equal(starting.appId, 'taxi')
    assert.equal(starting.workerId, 'in-process')
    assert.equal(starting.broker, url)
    assert.equal(starting.pid, process.pid)
    assert.equal(starting.guarantee, 'at-least-once')
    assert.deepEqual(
      (starting.agents as Array<{ name: string; reads: string }>).map((a) => [a.name, a.reads]),
      [
        ['big-rides', 'rides'],
        ['by-vendor', 'rides'],
      ],
    )
    assert.match(
      String(starting.msg),
      /^Worker in-process of app "taxi" starting \(pid \d+\): broker memory:\/\/worker-.* \(embedded/,
    )
    assert.ok(
      typeof starting.time === 'string' && !Number.isNaN(Date.parse(starting.time)),
      String(starting.time),
    )
    const rebalance = logs.find((l) => l.event === 'rebalance')
    assert.deepEqual(rebalance?.assigned, rebalance?.partitions, 'the first generation assigns all it owns')
    assert.deepEqual(rebalance?.revoked, [])
    assert.equal(logs.at(-1)?.event, 'stopped')
    assert.match(String(logs.at(-1)?.msg), /Worker in-process of app "taxi" stopped/)
    assert.ok(!logs.some((l) => l.event === 'no-broker'), 'a broker was given')
    assert.equal(app.worker, undefined)
  })

  test('an app that names no broker, run without --broker, says loudly that it runs on the embedded broker', async () => {
    const app = new App({ id: `no-broker-${randomUUID().slice(0, 8)}`, web: false })
    const rides = app.topic('rides', { key: string, value: json<{ fare: number }>() })
    app.agent('fares', rides, async (stream) => {
      for await (const ride of stream) void ride
    })
    const err = new Collector()
    const controller = new AbortController()
    const running = runWorker(app, { web: false }, { err, signal: controller.signal })
    const deadline = Date.now() + 20_000
    while (!err.text().includes('no-broker')) {
      assert.ok(Date.now() < deadline, err.text())
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    controller.abort()
    await running
    const logs = err.lines().map((line) => JSON.parse(line) as { level: string; event?: string; msg: string })
    assert.deepEqual(
      logs.slice(0, 2).map((l) => [l.level, l.event]),
      [
        ['info', 'starting'],
        ['warn', 'no-broker'],
      ],
    )
    assert.match(logs[0]!.msg, /starting \(pid \d+\): broker memory:\/\/ \(embedded/)
    assert.match(
      logs[1]!.msg,
      /^NOTE: no broker is configured \(the app's broker setting, --broker or TRIBUTARY_BROKER\), so this worker runs on the embedded memory:\/\/ broker/,
    )
  })

  test('a start that fails is one JSON error line', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    try {
      const app = new App({ id: `taken-${randomUUID().slice(0, 8)}`, web: { port } })
      const rides = app.topic('rides', { key: string, value: json<{ fare: number }>() })
      app.agent('fares', rides, async (stream) => {
        for await (const ride of stream) void ride
      })
      const err = new Collector()
      await assert.rejects(runWorker(app, { broker: `memory://${randomUUID()}` }, { err }), /EADDRINUSE/)
      const errors = err
        .lines()
        .map((line) => JSON.parse(line) as { level: string; event?: string })
        .filter((l) => l.level === 'error')
      assert.deepEqual(
        errors.map((l) => l.event),
        ['failed'],
        err.text(),
      )
    } finally {
      taken.close()
    }
  })

  test("--broker replaces the app's broker, and --tls and the SASL flags are folded into its URL", () => {
    const global = { broker: 'kafka://localhost:9092', timeout: 1000 }
    assert.equal(effectiveBroker('memory://', global, false), undefined)
    assert.equal(effectiveBroker('kafka://a:1', { ...global, broker: 'memory://x' }, true), 'memory://x')
    assert.equal(
      effectiveBroker(
        'kafka://a:1,b:2',
        { ...global, tls: true, saslMechanism: 'SCRAM-SHA-512', saslUsername: 'app', saslPassword: 'p@ss:w' },
        false,
      ),
      'kafka://app:p%40ss%3Aw@a:1,b:2?tls=true&sasl=SCRAM-SHA-512',
    )
    // -X client properties reach the app's broker as the flags do.
    const x = ['security.protocol=SASL_SSL', 'sasl.mechanism=PLAIN', 'sasl.username=u', 'sasl.password=pw']
    assert.equal(
      effectiveBroker('kafka://a:1', { ...global, clientSetting: x }, false),
      'kafka://u:pw@a:1?tls=true&sasl=PLAIN',
    )
    assert.throws(
      () => effectiveBroker('memory://', { ...global, tls: true }, false),
      /--tls and the --sasl-\* flags apply to a Kafka broker, and the broker is memory:\/\//,
    )
  })

  test('--no-web cannot be combined with --web-port, and the module must exist', async () => {
    const cli = async (...args: string[]) => {
      const stderr = new Collector()
      const code = await run(['node', 'tributary', ...args], {
        stdin: Readable.from([]),
        stdout: new Collector(),
        stderr,
      })
      return { code, stderr: stderr.text() }
    }
    const both = await cli('worker', taxi, '--no-web', '--web-port', '7000')
    assert.equal(both.code, 1)
    assert.match(both.stderr, /error: option '--no-web' cannot be used with option '--web-port <n>'/)
    const missing = await cli('worker', join(repo, 'test/cli/fixtures/absent.ts'))
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^error: App module ".*absent\.ts" does not exist/)
  })
})

describe('tributary worker, errors in the user code', () => {
  const markerLine = (file: string): number =>
    readFileSync(file, 'utf8')
      .split('\n')
      .findIndex((line) => line.includes('THROWS-HERE')) + 1

  test('a module that throws on import prints its own file:line and the cause chain', async () => {
    const fixture = join(repo, 'test/cli/fixtures/throws-on-import.ts')
    const { child, done } = startCli(['worker', fixture, '--no-web'])
    const result = await exitWithin(child, done, 60_000)
    assert.equal(result.code, 1, result.stderr)
    const lines = result.stderr.trimEnd().split('\n')
    assert.match(
      lines[0]!,
      /^error: App module ".*throws-on-import\.ts" could not be loaded: settings file rides\.json is missing$/,
    )
    assert.deepEqual(lines.slice(1), [
      '  caused by: Error: settings file rides.json is missing',
      `    at ${fixture}:${markerLine(fixture) + 1}:9`,
      '    caused by: Error: ENOENT: no such file or directory',
      `      at ${fixture}:${markerLine(fixture) + 2}:12`,
    ])
  })

  test('an agent that throws prints the record, its own file:line and the cause', async () => {
    const fixture = join(repo, 'test/cli/fixtures/throwing-agent.ts')
    const { child, done } = startCli(['worker', fixture, '--no-web'])
    const result = await exitWithin(child, done, 60_000)
    assert.equal(result.code, 1, result.stderr)
    const lines = result.stderr.trimEnd().split('\n')
    const error = lines.findIndex((line) => line.startsWith('error: '))
    assert.match(
      lines[error]!,
      /^error: agent "fares" on rides\[0\]: record rides\[0\]@0 failed: fare -5 is negative \(errors: 'fail' stops the worker here; to skip this record, stop the workers and run "tributary groups reset-offsets throwing-agent --topic rides:0 --to-offset 1 --execute", or choose errors: 'skip' or 'dlq'\)$/,
    )
    assert.deepEqual(lines.slice(error + 1), [
      '  caused by: RangeError: fare -5 is negative',
      `    at ${fixture}:${markerLine(fixture) + 1}:23`,
    ])
  })

  test('in JSON logs the failure is one error line with its trace, and the command prints no other', async () => {
    const fixture = join(repo, 'test/cli/fixtures/throwing-agent.ts')
    const { child, done } = startCli(['worker', fixture, '--no-web'], { TRIBUTARY_LOG_FORMAT: 'json' })
    const result = await exitWithin(child, done, 60_000)
    assert.equal(result.code, 1, result.stderr)
    const logs = result.stderr
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: string; event?: string; msg: string; trace?: string[] })
    const errors = logs.filter((l) => l.level === 'error')
    assert.equal(errors.length, 1, result.stderr)
    assert.equal(errors[0]!.event, 'failed')
    assert.match(
      errors[0]!.msg,
      /^agent "fares" on rides\[0\]: record rides\[0\]@0 failed: fare -5 is negative/,
    )
    assert.deepEqual(errors[0]!.trace, [
      '  caused by: RangeError: fare -5 is negative',
      `    at ${fixture}:${markerLine(fixture) + 1}:23`,
    ])
    assert.equal(logs[0]!.event, 'starting', 'the banner comes first')
  })

  test('--log-level warn leaves out the info lines, and a bad level is refused by name', async () => {
    const fixture = join(repo, 'test/cli/fixtures/throwing-agent.ts')
    const quiet = await exitWithin(...start(['-l', 'warn', 'worker', fixture, '--no-web']), 60_000)
    assert.equal(quiet.code, 1, quiet.stderr)
    assert.doesNotMatch(quiet.stderr, /INFO/)
    assert.match(quiet.stderr, /^error: agent "fares"/m)
    const bad = await runCli(['--log-level', 'loud', 'worker', fixture])
    assert.equal(bad.code, 1)
    assert.match(
      bad.stderr,
      /--log-level must be one of trace, debug, info, warn, error, fatal, silent, got "loud"/,
    )
  })
})
