/**
 * The `tributary` command line: builds the program, resolves the broker, runs a command, maps errors
 * to `error: <message>` and exit codes (0 done, 1 failed, 130 interrupted). Runs when executed directly
 * (`node --import tsx src/cli/main.ts`) or through bin/tributary.js.
 */
import { errorTrace } from './error-trace.js'
import { readFileSync, realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { Command, CommanderError, Option } from 'commander'
import { TributaryError } from '../errors.js'
import type { Transport } from '../transport/types.js'
import { collect, parseInteger } from './args.js'
import {
  DEFAULT_BROKER,
  DEFAULT_TIMEOUT_MS,
  connect,
  parseSaslMechanism,
  resolveBroker,
  withDeadline,
} from './broker.js'
import type { GlobalOptions } from './broker.js'
import { agentsCommand } from './commands/agents.js'
import { tablesCommand } from './commands/tables.js'
import { consumeCommand } from './commands/consume.js'
import { groupsCommand } from './commands/groups.js'
import { produceCommand } from './commands/produce.js'
import { sendCommand } from './commands/send.js'
import { topicsCommand } from './commands/topics.js'
import { workerCommand } from './commands/worker.js'
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK } from './context.js'
import { watchLauncher } from './launcher.js'
import { wasReported } from './reported.js'
import { parseLogFormat, parseLogLevel } from '../logger.js'
import type { CliContext, CliIo, ClientOptions } from './context.js'

/** How the process's Ctrl-C reaches the running command. */
export interface Interrupts {
  /** Set while a command that stops gracefully runs; absent means Ctrl-C exits at once. */
  abort?: () => void
  /** What a second Ctrl-C (immediate exit) reports as unsettled. */
  report?: () => string
  /** Set while a command that stops gracefully at SIGTERM runs (the worker); absent means SIGTERM ends the process. */
  terminate?: (why: string) => void
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string
    }
    return pkg.version ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

export function buildProgram(context: CliContext): Command {
  const program = new Command('tributary')
    .description(
      'Kafka command line of Tributary: topics, produce, consume, consumer groups; apps: worker, agents, tables, send',
    )
    .version(version())
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void context.io.stdout.write(text),
      writeErr: (text) => void context.io.stderr.write(text),
    })
    .showHelpAfterError('(add --help for usage)')
    .addOption(
      new Option(
        '-b, --broker <url>',
        'kafka://host:port[,host:port], host:port, or with user:pass@ and ?tls=true&sasl=...',
      )
        .env('TRIBUTARY_BROKER')
        .default(DEFAULT_BROKER),
    )
    .addOption(
      new Option('--sasl-mechanism <name>', 'PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512').argParser(
        parseSaslMechanism,
      ),
    )
    .option('--sasl-username <name>', 'SASL user name')
    .addOption(
      new Option('--sasl-password <password>', 'SASL password (prefer the env variable)').env(
        'TRIBUTARY_SASL_PASSWORD',
      ),
    )
    .option('--tls', 'connect with TLS')
    .option(
      '-X, --client-setting <name=value>',
      'a Kafka client property (security.protocol, sasl.mechanism, sasl.username, sasl.password, request.timeout.ms, ...), repeatable',
      collect,
    )
    .addOption(
      new Option('-l, --log-level <level>', 'worker log level: trace, debug, info, warn, error, silent')
        .env('TRIBUTARY_LOG_LEVEL')
        .default('info')
        .argParser((t) => parseLogLevel(t, '--log-level')),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'worker logs as human lines or JSON lines (default: human on a terminal)',
      )
        .env('TRIBUTARY_LOG_FORMAT')
        .argParser((t) => parseLogFormat(t, '--log-format')),
    )
    .option(
      '--timeout <ms>',
      'give up when the broker does not answer in time',
      (t) => parseInteger(t, '--timeout', 1),
      DEFAULT_TIMEOUT_MS,
    )
    .addHelpText(
      'after',
      `\nThe broker comes from --broker, else TRIBUTARY_BROKER, else ${DEFAULT_BROKER} (worker and send --app:\n` +
        "else the app's own broker setting). memory:// cannot be used here, except by worker: the embedded\n" +
        'broker exists only inside the process of the app that created it.\n' +
        '\nExamples:\n' +
        '  $ tributary --broker kafka://127.0.0.1:19092 topics create rides --partitions 3\n' +
        '  $ tributary produce rides --file rides.csv --key-delimiter ,\n' +
        '  $ tributary consume rides --group printers --from beginning --exit-at-end\n' +
        '  $ tributary groups describe printers\n' +
        '  $ tributary worker app.ts --web-port 6067\n' +
        '  $ TRIBUTARY_SASL_PASSWORD=secret tributary -b kafka://broker:9093 --tls --sasl-mechanism SCRAM-SHA-512 --sasl-username app topics list',
    )
  program.addCommand(topicsCommand(context))
  program.addCommand(produceCommand(context))
  program.addCommand(consumeCommand(context))
  program.addCommand(groupsCommand(context))
  program.addCommand(workerCommand(context))
  program.addCommand(agentsCommand(context))
  program.addCommand(tablesCommand(context))
  program.addCommand(sendCommand(context))
  inheritSettings(program)
  return program
}

/** Commands built on their own (`new Command`) do not inherit exitOverride and the output streams. */
function inheritSettings(parent: Command): void {
  for (const command of parent.commands) {
    command.copyInheritedSettings(parent)
    inheritSettings(command)
  }
}

/** Closing must not hold up the exit (the broker may be gone): give it two seconds. */
async function closeQuietly(transport: Transport): Promise<void> {
  await withDeadline(transport.close(), 2000, transport.url).catch(() => undefined)
}

/** Runs the command line and returns the exit code. The caller owns the process (signals, exit). */
export async function run(argv: string[], io: CliIo, interrupts: Interrupts = {}): Promise<number> {
  let exitCode = EXIT_OK
  let broker: { display: string; fromDefault: boolean } | undefined
  const open = (
    command: Command,
    options: ClientOptions = {},
  ): { transport: Transport; global: GlobalOptions } => {
    const global = command.optsWithGlobals<GlobalOptions>()
    const fromDefault = command.getOptionValueSourceWithGlobals('broker') === 'default'
    const url = fromDefault && options.broker !== undefined ? options.broker : global.broker
    const target = resolveBroker({ ...global, broker: url })
    broker = { display: target.display, fromDefault: fromDefault && options.broker === undefined }
    return { transport: connect(target), global }
  }
  const context: CliContext = {
    io,
    async admin(command, work) {
      const { transport, global } = open(command)
      try {
        await withDeadline(work(transport.admin()), global.timeout, transport.url)
      } finally {
        await closeQuietly(transport)
      }
    },
    async client(command, work, options) {
      const { transport, global } = open(command, options)
      const controller = new AbortController()
      interrupts.abort = () => controller.abort()
      try {
        exitCode = await work(transport, global, {
          signal: controller.signal,
          onForcedExit: (r) => (interrupts.report = r),
        })
      } finally {
        interrupts.abort = undefined
        await closeQuietly(transport)
      }
    },
    async service(command, work) {
      const global = command.optsWithGlobals<GlobalOptions>()
      const controller = new AbortController()
      interrupts.abort = () => controller.abort()
      interrupts.terminate = (why) => controller.abort(why)
      try {
        exitCode = await work(global, {
          signal: controller.signal,
          onForcedExit: (r) => (interrupts.report = r),
        })
      } finally {
        interrupts.abort = undefined
        interrupts.terminate = undefined
      }
    },
  }
  try {
    await buildProgram(context).parseAsync(argv)
    return exitCode
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode
    if (wasReported(error)) return EXIT_FAILED
    io.stderr.write(`error: ${describeError(error, broker)}\n`)
    // Where it came from in the user's code, and why (the cause chain); every frame with TRIBUTARY_DEBUG=1.
    for (const line of errorTrace(error)) io.stderr.write(`${line}\n`)
    if (process.env.TRIBUTARY_DEBUG && error instanceof Error) io.stderr.write(`${error.stack ?? ''}\n`)
    return EXIT_FAILED
  }
}

function describeError(
  error: unknown,
  broker: { display: string; fromDefault: boolean } | undefined,
): string {
  let message = error instanceof Error ? error.message : String(error)
  const connection =
    error instanceof TributaryError && (error.code === 'BROKER_UNREACHABLE' || error.code === 'TIMEOUT')
  if (connection && broker !== undefined) {
    const addresses = broker.display.replace(/^kafka:\/\//, '').split(',')
    if (!addresses.some((address) => message.includes(address))) message += ` (broker ${broker.display})`
    if (broker.fromDefault)
      message += `; ${DEFAULT_BROKER} is the default: give --broker or set TRIBUTARY_BROKER`
  }
  return message
}

/** The process entry: Ctrl-C handling, a quiet EPIPE, and an explicit exit once the output is flushed. */
export async function main(argv: string[] = process.argv): Promise<never> {
  const interrupts: Interrupts = {}
  let presses = 0
  process.on('SIGINT', () => {
    presses++
    if (presses === 1 && interrupts.abort !== undefined) {
      process.stderr.write('\nStopping: finishing what was started (Ctrl-C again to exit at once)...\n')
      interrupts.abort()
      return
    }
    const report = interrupts.report?.()
    process.stderr.write(`\nInterrupted${report === undefined ? '' : `: ${report}`}\n`)
    process.exit(EXIT_INTERRUPTED)
  })
  // SIGTERM (systemd, Kubernetes, `kill`) stops a worker gracefully; any other command, or a second
  // SIGTERM, ends the process by the signal's default action, as before this handler existed.
  const onTerminate = (why = 'SIGTERM'): void => {
    const terminate = interrupts.terminate
    if (terminate !== undefined) {
      interrupts.terminate = undefined
      terminate(why)
      return
    }
    process.off('SIGTERM', onSigterm)
    process.kill(process.pid, 'SIGTERM')
  }
  const onSigterm = (): void => onTerminate()
  process.on('SIGTERM', onSigterm)
  // Under npx or npm run, a SIGTERM sent to npm ends npm only: its exit stands for the signal.
  watchLauncher((why) => onTerminate(why))
  // A closed stdout (`| head`) is a normal way to stop reading; consume notices and ends cleanly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
  })
  const code = await run(
    argv,
    { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
    interrupts,
  )
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()))
  await new Promise<void>((resolve) => process.stderr.write('', () => resolve()))
  process.exit(code)
}

function executedDirectly(): boolean {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url
  } catch {
    return false
  }
}

if (executedDirectly()) await main()
