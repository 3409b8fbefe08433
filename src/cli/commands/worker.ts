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
import { write } from '../output.js'

export interface WorkerOptions {
  /** Replaces the app's broker setting (memory:// included: the app then runs entirely in this process). */
  broker?: string
  /** Replaces or adjusts the app's ops server: false for none, else merged into the app's own. */
  web?: { port?: number; host?: string } | false
  workerId?: string
}

export interface WorkerIo {
  /** The startup and stop lines, and the app's warnings (stderr). */
  err: Writable
  /** Aborting it stops the worker gracefully. */
  signal?: AbortSignal
}

export interface WorkerSummary {
  appId: string
  workerId: string
  broker: string
  opsUrl: string | undefined
}

type Overrides = Partial<Omit<AppSettings, 'id'>>

/** The settings the command line changes; the only place the worker command alters an app. */
export function workerOverrides(app: App, options: WorkerOptions, err: Writable): Overrides {
  const current = app.settings
  const overrides: Overrides = {}
  if (options.broker !== undefined) overrides.broker = options.broker
  if (options.workerId !== undefined) overrides.workerId = options.workerId
  if (options.web === false) overrides.web = false
  else if (options.web !== undefined) overrides.web = { ...(current.web || {}), ...options.web }
  // An app without a log of its own: its warnings go to this command's stderr, in the app's format.
  if (current.log === undefined) overrides.log = workerLog(app, err)
  return overrides
}

/**
 * Info lines are left out (the startup line says it all). The worker logs at error level only the
 * failure that stops it, which this command then prints as its `error:` line; so an error line is
 * written only if the worker is still running a moment later, which keeps that message from
 * appearing twice without losing any other.
 */
function workerLog(app: App, err: Writable): NonNullable<AppSettings['log']> {
  return (level, message) => {
    if (level === 'info' || level === 'debug') return
    const line = `[${app.worker?.workerId ?? app.settings.workerId ?? app.id}] ${level}: ${message}\n`
    if (level === 'warn') return void err.write(line)
    setImmediate(() => {
      if (app.worker?.state === 'running') err.write(line)
    })
  }
}

/** Starts the worker, reports it, and waits for the signal (graceful stop) or a failure (thrown). */
export async function runWorker(app: App, options: WorkerOptions, io: WorkerIo): Promise<WorkerSummary> {
  app.override(workerOverrides(app, options, io.err))
  const settings = app.settings
  const worker = await app.start()
  const summary: WorkerSummary = {
    appId: app.id,
    workerId: worker.workerId,
    broker: settings.broker,
    opsUrl: app.opsUrl,
  }
  const signal = io.signal ?? new AbortController().signal
  try {
    await write(io.err, startupLine(app, summary))
    if (options.broker === undefined && !app.brokerGiven) await write(io.err, NO_BROKER)
    if (!signal.aborted) {
      let onAbort = (): void => {}
      const aborted = new Promise<void>((resolve) => (onAbort = resolve))
      signal.addEventListener('abort', onAbort, { once: true })
      try {
        await Promise.race([worker.done, aborted])
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
    }
  } finally {
    // After a failure too: the worker has stopped itself, this closes the ops server and connections.
    await app.stop()
  }
  // A failure while stopping (the records in hand) still fails the command.
  await worker.done
  await write(
    io.err,
    `Worker ${summary.workerId} of app "${summary.appId}" stopped: processed records committed, group left.\n`,
  )
  return summary
}

/** Said loudly: an app that forgot its broker would otherwise look like a healthy worker. */
const NO_BROKER =
  "NOTE: no broker is configured (the app's broker setting, --broker or TRIBUTARY_BROKER), so this " +
  'worker runs on the embedded memory:// broker: nothing outside this process reads or writes its ' +
  'topics, and their records are gone when it exits.\n'

function startupLine(app: App, s: WorkerSummary): string {
  const parsed = parseTransportUrl(s.broker)
  const broker =
    parsed.scheme === 'memory'
      ? `${s.broker} (embedded: the broker runs inside this worker process, and nothing outside it can reach it)`
      : parsed.display
  const agents = [...app.agents.keys()]
  return (
    `Worker ${s.workerId} of app "${s.appId}" is running: broker ${broker}; ` +
    `agents ${agents.length > 0 ? agents.join(', ') : 'none'}; ` +
    `ops ${s.opsUrl ?? 'off'}. SIGTERM or Ctrl-C stops it gracefully.\n`
  )
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
  const flags = global.tls === true || global.saslMechanism !== undefined || global.saslUsername !== undefined
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
        await runWorker(app, options, { err: context.io.stderr, signal: control.signal })
        return EXIT_OK
      })
    })
}
