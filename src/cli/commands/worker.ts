/**
 * `tributary worker <module>`: runs one worker of the app a module exports, until SIGTERM or Ctrl-C
 * (graceful: finish the records in hand, commit, leave the group) or until it fails.
 */
import type { Writable } from 'node:stream'
import { Command, Option } from 'commander'
import { TributaryError } from '../../errors.js'
import type { App } from '../../streams/app.js'
import type { AppSettings } from '../../streams/settings.js'
import { parseTransportUrl } from '../../transport/url.js'
import { loadApp } from '../app-loader.js'
import { parseInteger } from '../args.js'
import { resolveBroker } from '../broker.js'
import type { GlobalOptions } from '../broker.js'
import type { CliContext } from '../context.js'
import { EXIT_OK } from '../context.js'
import { errorTrace } from '../error-trace.js'
import { markReported } from '../reported.js'
import { createLogger, logFormatFor, pinoSink, type LogFormat, type LoggerLevel } from '../../logger.js'
import type { Logger } from 'pino'
import { describeApp } from './agents.js'

export interface WorkerOptions {
  /** Replaces the app's broker setting (memory:// included: the app then runs entirely in this process). */
  broker?: string
  /** Replaces or adjusts the app's ops server: false for none, else merged into the app's own. */
  web?: { port?: number; host?: string } | false
  workerId?: string
}

export interface WorkerIo {
  /** The worker's log (stderr): banner, rebalances, warnings, the stop line. */
  err: Writable & { isTTY?: boolean }
  /** Aborting it stops the worker gracefully; a string reason is logged as why. */
  signal?: AbortSignal
  /** @default 'info' */
  logLevel?: LoggerLevel
  /** @default human on a terminal, json otherwise */
  logFormat?: LogFormat
}

export interface WorkerSummary {
  appId: string
  workerId: string
  broker: string
  opsUrl: string | undefined
}

type Overrides = Partial<Omit<AppSettings, 'id'>>

/** The settings the command line changes; the only place the worker command alters an app. */
export function workerOverrides(app: App, options: WorkerOptions, logger: Logger): Overrides {
  const current = app.settings
  const overrides: Overrides = {}
  if (options.broker !== undefined) overrides.broker = options.broker
  if (options.workerId !== undefined) overrides.workerId = options.workerId
  if (options.web === false) overrides.web = false
  else if (options.web !== undefined) overrides.web = { ...(current.web || {}), ...options.web }
  // An app without a log of its own logs to this command's logger.
  if (current.log === undefined) overrides.log = workerLog(app, logger)
  return overrides
}

/**
 * The worker logs at error level only the failure that stops it, which this command then reports as
 * its error; so an error line is written only if the worker is still running a moment later, which
 * keeps that message from appearing twice without losing any other.
 */
function workerLog(app: App, logger: Logger): NonNullable<AppSettings['log']> {
  const sink = pinoSink(logger)
  return (level, message, fields) => {
    if (level !== 'error') return sink(level, message, fields)
    setImmediate(() => {
      if (app.worker?.state === 'running') sink(level, message, fields)
    })
  }
}

/** Starts the worker, reports it, and waits for the signal (graceful stop) or a failure (thrown). */
export async function runWorker(app: App, options: WorkerOptions, io: WorkerIo): Promise<WorkerSummary> {
  const logger = createLogger({
    destination: io.err,
    level: io.logLevel ?? 'info',
    ...(io.logFormat ? { format: io.logFormat } : {}),
  })
  try {
    return await runLogged(app, options, io, logger)
  } catch (error) {
    throw reported(logger, io, error)
  }
}

async function runLogged(
  app: App,
  options: WorkerOptions,
  io: WorkerIo,
  logger: Logger,
): Promise<WorkerSummary> {
  app.override(workerOverrides(app, options, logger))
  const settings = app.settings
  const noBroker = options.broker === undefined && !app.brokerGiven
  const worker = await app.start({
    onStarting: (workerId) => {
      const banner = startupBanner(app, workerId)
      logger.info(banner.fields, banner.message)
      if (noBroker) logger.warn({ event: 'no-broker' }, NO_BROKER)
    },
  })
  const summary: WorkerSummary = {
    appId: app.id,
    workerId: worker.workerId,
    broker: settings.broker,
    opsUrl: app.opsUrl,
  }
  const signal = io.signal ?? new AbortController().signal
  try {
    logger.info(
      { event: 'running', workerId: summary.workerId },
      `Worker ${summary.workerId} is running. SIGTERM or Ctrl-C stops it gracefully.`,
    )
    if (!signal.aborted) {
      let onAbort = (): void => {}
      const aborted = new Promise<void>((resolve) => (onAbort = resolve))
      signal.addEventListener('abort', onAbort, { once: true })
      try {
        await Promise.race([worker.done, aborted])
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
      if (signal.aborted && typeof signal.reason === 'string')
        logger.info(
          { event: 'stopping', why: signal.reason },
          `Stopping (${signal.reason}): finishing what was started...`,
        )
    }
  } finally {
    // After a failure too: the worker has stopped itself, this closes the ops server and connections.
    await app.stop()
  }
  // A failure while stopping (the records in hand) still fails the command.
  await worker.done
  logger.info(
    { event: 'stopped', workerId: summary.workerId },
    `Worker ${summary.workerId} of app "${summary.appId}" stopped: processed records committed, group left.`,
  )
  return summary
}

/**
 * In JSON logs the failure is a log line too (with its trace), and the command's own `error:` line is
 * left out; a terminal gets the `error:` line with the trace under it.
 */
function reported(logger: Logger, io: WorkerIo, error: unknown): unknown {
  const json = logFormatFor(io.err, io.logFormat) === 'json'
  if (!json || !(error instanceof Error)) return error
  logger.error({ event: 'failed', err: error, trace: errorTrace(error) }, error.message)
  markReported(error)
  return error
}

/** Said loudly: an app that forgot its broker would otherwise look like a healthy worker. */
const NO_BROKER =
  "NOTE: no broker is configured (the app's broker setting, --broker or TRIBUTARY_BROKER), so this " +
  'worker runs on the embedded memory:// broker: nothing outside this process reads or writes its ' +
  'topics, and their records are gone when it exits.'

/** What a newcomer and a log search both want first: who runs, where, reading and writing what. */
export function startupBanner(
  app: App,
  workerId: string,
): { message: string; fields: Record<string, unknown> } {
  const s = app.settings
  const parsed = parseTransportUrl(s.broker)
  const broker =
    parsed.scheme === 'memory'
      ? `${s.broker} (embedded: the broker runs inside this worker process, and nothing outside it can reach it)`
      : parsed.display
  const description = describeApp(app)
  const guarantee = 'at-least-once'
  const agents = description.agents.map((a) => ({ name: a.name, reads: a.source, writes: a.sinks }))
  const internal = description.internalTopics.map((t) => t.name)
  const lines = [
    `Worker ${workerId} of app "${s.id}" starting (pid ${process.pid}): broker ${broker}; ` +
      `ops ${app.opsUrl ?? 'off'}; ${guarantee}; group ${s.id}`,
    ...agents.map(
      (a) =>
        `  agent ${a.name}: reads ${a.reads}${a.writes.length > 0 ? `, writes ${a.writes.join(', ')}` : ''}`,
    ),
  ]
  if (agents.length === 0) lines.push('  no agents')
  if (internal.length > 0) lines.push(`  internal topics: ${internal.join(', ')}`)
  return {
    message: lines.join('\n'),
    fields: {
      event: 'starting',
      appId: s.id,
      workerId,
      broker: parsed.scheme === 'kafka' ? parsed.display : s.broker,
      ops: app.opsUrl ?? null,
      guarantee,
      group: s.id,
      agents,
      internalTopics: internal,
    },
  }
}

/**
 * The broker the app should use: --broker or TRIBUTARY_BROKER if given (memory:// accepted), else the
 * app's own; --tls and the SASL flags then apply to it, folded into the URL the app opens.
 */
export function effectiveBroker(
  appBroker: string,
  global: GlobalOptions,
  brokerGiven: boolean,
): string | undefined {
  const url = brokerGiven ? global.broker : appBroker
  const flags =
    global.tls === true ||
    global.saslMechanism !== undefined ||
    global.saslUsername !== undefined ||
    (global.clientSetting?.length ?? 0) > 0
  if (!flags) return brokerGiven ? url : undefined
  if (parseTransportUrl(url).scheme === 'memory') {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `--tls and the --sasl-* flags apply to a Kafka broker, and the broker is ${url}`,
    )
  }
  const target = resolveBroker({ ...global, broker: url })
  const parsed = parseTransportUrl(url)
  if (parsed.scheme !== 'kafka') return url
  const { sasl, tls } = target.options
  const credentials =
    sasl === undefined ? '' : `${encodeURIComponent(sasl.username)}:${encodeURIComponent(sasl.password)}@`
  const query = new URLSearchParams()
  if (tls ?? parsed.options.tls) query.set('tls', 'true')
  if (sasl !== undefined) query.set('sasl', sasl.mechanism)
  const search = query.size > 0 ? `?${query.toString()}` : ''
  return `kafka://${credentials}${parsed.brokers.join(',')}${search}`
}

interface WorkerFlags {
  app?: string
  webPort?: number
  webHost?: string
  web: boolean
  workerId?: string
}

export function workerCommand(context: CliContext): Command {
  return new Command('worker')
    .description("run a worker of an app: its agents process their topics' partitions until stopped")
    .argument('<module>', 'TypeScript or JavaScript module exporting the App (default export or "app")')
    .option('--app <exportName>', 'the export to run, when the module exports several apps')
    .option('--web-port <n>', 'port of the ops HTTP server (0: any free port)', (t) =>
      parseInteger(t, '--web-port'),
    )
    .option('--web-host <host>', 'address the ops HTTP server listens on')
    .addOption(new Option('--no-web', 'run without the ops HTTP server').conflicts(['webPort', 'webHost']))
    .option('--worker-id <id>', "this worker's name (client id) in the group and in logs")
    .addHelpText(
      'after',
      '\nThe global --broker (or TRIBUTARY_BROKER) replaces the broker of the app; memory:// runs the app\n' +
        'with its embedded broker entirely inside this process. Start several workers of an app (one per\n' +
        'process, machine or container) and the consumer group shares the partitions among them.\n' +
        'SIGTERM or Ctrl-C stops a worker gracefully: it finishes the records in hand, commits and leaves the\n' +
        'group (exit 0). A worker that fails (e.g. a bad record under the errors "fail" policy) exits 1 with\n' +
        'the error, naming topic, partition and offset.\n\nExamples:\n' +
        '  $ tributary worker src/app.ts\n' +
        '  $ tributary --broker kafka://kafka1:9092 worker dist/app.js --web-port 6067 --worker-id w2\n' +
        '  $ tributary worker apps.ts --app counter --no-web',
    )
    .action(async (module: string, flags: WorkerFlags, command: Command) => {
      await context.service(command, async (global, control) => {
        control.onForcedExit(
          () =>
            'the worker did not finish stopping: records processed since its last commit will be processed again',
        )
        const { app } = await loadApp(module, { exportName: flags.app })
        const brokerGiven = command.getOptionValueSourceWithGlobals('broker') !== 'default'
        const options: WorkerOptions = {
          broker: effectiveBroker(app.settings.broker, global, brokerGiven),
          workerId: flags.workerId,
        }
        if (!flags.web) options.web = false
        else if (flags.webPort !== undefined || flags.webHost !== undefined) {
          options.web = {}
          if (flags.webPort !== undefined) options.web.port = flags.webPort
          if (flags.webHost !== undefined) options.web.host = flags.webHost
        }
        await runWorker(app, options, {
          err: context.io.stderr,
          signal: control.signal,
          logLevel: global.logLevel ?? 'info',
          ...(global.logFormat ? { logFormat: global.logFormat } : {}),
        })
        return EXIT_OK
      })
    })
}
