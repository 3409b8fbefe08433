/**
 * Fetches, starts, stops and reports the real Apache Kafka broker used for development and tests:
 * a single KRaft node (broker + controller) from Maven Central jars, on 127.0.0.1.
 *
 *   tsx scripts/kafka/broker.ts start|stop|status|fetch [--port 19092]
 *
 * Ports: PLAINTEXT on `port` (default 19092, env TRIBUTARY_KAFKA_PORT), SASL_PLAINTEXT (SCRAM and
 * PLAIN) on port+1, the controller on port+2. Everything lives in TRIBUTARY_KAFKA_HOME (default
 * `.kafka/` in the repository, git-ignored): lib/ (jars), data/, logs/, config/, broker.json.
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { probeKafka } from './probe.js'

const here = dirname(fileURLToPath(import.meta.url))
const repo = resolve(here, '..', '..')

/** The SCRAM and PLAIN user of the SASL listener, for the security tests. */
export const SASL_USER = 'tributary'
export const SASL_PASSWORD = 'tributary-secret'

export interface BrokerInfo {
  pid: number
  port: number
  saslPort: number
  controllerPort: number
  version: string
}

export function kafkaHome(): string {
  return resolve(process.env.TRIBUTARY_KAFKA_HOME ?? join(repo, '.kafka'))
}

export function defaultPort(): number {
  const port = Number(process.env.TRIBUTARY_KAFKA_PORT ?? 19092)
  if (!Number.isInteger(port) || port < 1 || port > 65533)
    throw new Error(`TRIBUTARY_KAFKA_PORT is not a port: ${port}`)
  return port
}

function kafkaVersion(): string {
  const pom = readFileSync(join(here, 'pom.xml'), 'utf8')
  return /<kafka\.version>([^<]+)</.exec(pom)?.[1] ?? 'unknown'
}

/** Copies the broker's jars from Maven Central (through ~/.m2) into <home>/lib, once per version. */
export function fetchJars(): string {
  const lib = join(kafkaHome(), 'lib')
  const marker = join(lib, `.complete-${kafkaVersion()}`)
  if (existsSync(marker)) return lib
  rmSync(lib, { recursive: true, force: true })
  console.log(`Fetching Apache Kafka ${kafkaVersion()} jars from Maven Central (once)...`)
  const mvn = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      join(here, 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${lib}`,
      '-DincludeScope=runtime',
    ],
    { stdio: 'inherit' },
  )
  if (mvn.error) throw new Error(`Could not run Maven (mvn) to fetch the Kafka jars: ${mvn.error.message}`)
  if (mvn.status !== 0)
    throw new Error(`Maven failed (exit ${mvn.status}) fetching the Kafka jars; see its output above`)
  writeFileSync(marker, new Date().toISOString())
  return lib
}

function readInfo(): BrokerInfo | undefined {
  const file = join(kafkaHome(), 'broker.json')
  if (!existsSync(file)) return undefined
  return JSON.parse(readFileSync(file, 'utf8')) as BrokerInfo
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function java(lib: string, main: string, args: string[], extra: string[] = []): string[] {
  return [...extra, '-cp', `${lib}/*`, main, ...args]
}

function writeConfig(port: number): string {
  const home = kafkaHome()
  const values: Record<string, string> = {
    PORT: String(port),
    SASL_PORT: String(port + 1),
    CONTROLLER_PORT: String(port + 2),
    DATA_DIR: join(home, 'data'),
    SASL_USER,
    SASL_PASSWORD,
  }
  const template = readFileSync(join(here, 'server.properties.template'), 'utf8')
  const text = template.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => values[name] ?? '')
  mkdirSync(join(home, 'config'), { recursive: true })
  const file = join(home, 'config', 'server.properties')
  writeFileSync(file, text)
  return file
}

/** Formats the KRaft log directory once, with the SCRAM users of the SASL listener. */
function formatStorage(lib: string, config: string): void {
  const data = join(kafkaHome(), 'data')
  if (existsSync(join(data, 'meta.properties'))) return
  // A base64url id may start with '-', so it is passed as --cluster-id=<id>, never as its own argument.
  const clusterId = randomBytes(16).toString('base64url')
  const scram = ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => [
    '--add-scram',
    `${m}=[name=${SASL_USER},password=${SASL_PASSWORD}]`,
  ])
  const result = spawnSync(
    'java',
    java(
      lib,
      'kafka.tools.StorageTool',
      ['format', `--cluster-id=${clusterId}`, '-c', config, ...scram],
      logProps(),
    ),
    { encoding: 'utf8' },
  )
  if (result.status !== 0)
    throw new Error(`Formatting the Kafka storage failed:\n${result.stdout}${result.stderr}`)
}

function logProps(): string[] {
  return [
    `-Dlog4j2.configurationFile=${join(here, 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${join(kafkaHome(), 'logs')}`,
  ]
}

/** Starts the broker unless it already runs; resolves once it answers metadata requests. */
export async function startBroker(
  port = defaultPort(),
  timeoutMs = 90_000,
): Promise<BrokerInfo & { started: boolean }> {
  const running = readInfo()
  if (running && alive(running.pid) && (await probeKafka(`127.0.0.1:${running.port}`, 5_000))) {
    return { ...running, started: false }
  }
  if (await probeKafka(`127.0.0.1:${port}`, 2_000)) {
    throw new Error(
      `Something already answers as Kafka on 127.0.0.1:${port} that this script did not start; stop it or choose --port`,
    )
  }
  const lib = fetchJars()
  const config = writeConfig(port)
  formatStorage(lib, config)
  const logs = join(kafkaHome(), 'logs')
  mkdirSync(logs, { recursive: true })
  const out = openSync(join(logs, 'stdout.log'), 'a')
  const child = spawn(
    'java',
    java(
      lib,
      'kafka.Kafka',
      [config],
      ['-Xms256m', '-Xmx1g', '-XX:+UseG1GC', '-Djava.awt.headless=true', ...logProps()],
    ),
    { detached: true, stdio: ['ignore', out, out] },
  )
  closeSync(out)
  child.unref()
  const info: BrokerInfo = {
    pid: child.pid!,
    port,
    saslPort: port + 1,
    controllerPort: port + 2,
    version: kafkaVersion(),
  }
  writeFileSync(join(kafkaHome(), 'broker.json'), JSON.stringify(info, null, 2))
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!alive(info.pid))
      throw new Error(
        `The Kafka broker exited during startup; see ${join(logs, 'stdout.log')} and server.log`,
      )
    if (await probeKafka(`127.0.0.1:${port}`, 2_000)) return { ...info, started: true }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(
    `The Kafka broker did not answer on 127.0.0.1:${port} within ${timeoutMs / 1000} s; see ${logs}`,
  )
}

/** Stops the broker this script started (SIGTERM, then SIGKILL after 30 s). */
export async function stopBroker(): Promise<boolean> {
  const info = readInfo()
  if (!info || !alive(info.pid)) return false
  process.kill(info.pid, 'SIGTERM')
  const deadline = Date.now() + 30_000
  while (alive(info.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
  if (alive(info.pid)) process.kill(info.pid, 'SIGKILL')
  rmSync(join(kafkaHome(), 'broker.json'), { force: true })
  return true
}

export async function brokerStatus(): Promise<(BrokerInfo & { answering: boolean }) | undefined> {
  const info = readInfo()
  if (!info || !alive(info.pid)) return undefined
  return { ...info, answering: await probeKafka(`127.0.0.1:${info.port}`, 3_000) }
}

async function main(): Promise<void> {
  const [command = 'status', ...args] = process.argv.slice(2)
  const portArg = args.indexOf('--port')
  const port = portArg >= 0 ? Number(args[portArg + 1]) : defaultPort()
  switch (command) {
    case 'fetch':
      console.log(`Kafka jars in ${fetchJars()} (${readdirSync(join(kafkaHome(), 'lib')).length - 1} files)`)
      return
    case 'start': {
      const info = await startBroker(port)
      console.log(
        `${info.started ? 'Started' : 'Already running:'} Apache Kafka ${info.version} (pid ${info.pid})`,
      )
      console.log(`bootstrap: kafka://127.0.0.1:${info.port}`)
      console.log(
        `sasl:      kafka://${SASL_USER}:${SASL_PASSWORD}@127.0.0.1:${info.saslPort}?sasl=SCRAM-SHA-256`,
      )
      return
    }
    case 'stop':
      console.log(
        (await stopBroker())
          ? 'Stopped the Kafka broker'
          : 'No Kafka broker started by this script is running',
      )
      return
    case 'status': {
      const status = await brokerStatus()
      if (!status) {
        // Not ours: but something else may answer on the port (another checkout, a system Kafka).
        if (await probeKafka(`127.0.0.1:${port}`, 3_000)) {
          console.log(
            `Kafka broker: none started by this checkout (${kafkaHome()}), but a Kafka broker that this checkout ` +
              `did not start answers at kafka://127.0.0.1:${port}; kafka:stop will not stop it`,
          )
          process.exitCode = 4
        } else {
          console.log(`Kafka broker: not running (nothing answers at kafka://127.0.0.1:${port})`)
          process.exitCode = 3
        }
      } else {
        console.log(
          `Kafka broker: running (pid ${status.pid}), ${status.answering ? 'answering' : 'NOT answering'} at kafka://127.0.0.1:${status.port}`,
        )
        if (!status.answering) process.exitCode = 1
      }
      return
    }
    default:
      throw new Error(`Unknown command "${command}"; use start, stop, status or fetch`)
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  })
}
