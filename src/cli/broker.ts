/** Resolves the cluster the CLI talks to from --broker, the environment and the security flags. */
import type { LogFormat, LoggerLevel } from '../logger.js'
import { TributaryError } from '../errors.js'
import { parseClientSettings } from './client-settings.js'
import { openTransport } from '../transport/index.js'
import type { ConnectionOptions, SaslMechanism, Transport } from '../transport/types.js'
import { parseTransportUrl } from '../transport/url.js'

/** Kafka's own tools have no default; ours uses the address every Kafka quickstart listens on. */
export const DEFAULT_BROKER = 'kafka://localhost:9092'

/** The --timeout default: with process start-up, an unreachable broker fails a command within 15 s. */
export const DEFAULT_TIMEOUT_MS = 12_000

/** The global options, as commander parsed them. */
export interface GlobalOptions {
  broker: string
  saslMechanism?: SaslMechanism
  saslUsername?: string
  saslPassword?: string
  tls?: boolean
  timeout: number
  logLevel?: LoggerLevel
  logFormat?: LogFormat
  /** `-X name=value` client settings, as typed (applied by resolveBroker; a flag wins over them). */
  clientSetting?: string[]
}

export interface BrokerTarget {
  url: string
  /** The address without credentials, for messages. */
  display: string
  options: ConnectionOptions
}

const SASL_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']

export function parseSaslMechanism(text: string): SaslMechanism {
  const value = text.toUpperCase() as SaslMechanism
  if (!SASL_MECHANISMS.includes(value)) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `--sasl-mechanism must be one of ${SASL_MECHANISMS.join(', ')}, got "${text}"`,
    )
  }
  return value
}

/**
 * The embedded broker lives in the memory of the process that created it, so a second process (this
 * CLI) has nothing to connect to; saying so beats an empty topic list.
 */
function refuseMemory(url: string): never {
  throw new TributaryError(
    'NOT_SUPPORTED',
    `"${url}" is the embedded broker, which lives inside one process (an app's own process), ` +
      `so a separate tributary CLI process cannot reach it. Give a Kafka address instead: ` +
      `--broker kafka://host:port (or set TRIBUTARY_BROKER)`,
  )
}

/** Merges the URL's own settings with the flags; flags win, and SASL flags may complete URL credentials. */
export function resolveBroker(given: GlobalOptions): BrokerTarget {
  const x = parseClientSettings(given.clientSetting ?? [])
  const global = {
    ...given,
    tls: given.tls ?? x.tls,
    saslMechanism: given.saslMechanism ?? x.saslMechanism,
    saslUsername: given.saslUsername ?? x.saslUsername,
    saslPassword: given.saslPassword ?? x.saslPassword,
  }
  const parsed = parseTransportUrl(global.broker)
  if (parsed.scheme === 'memory') refuseMemory(global.broker)
  const options: ConnectionOptions = {}
  if (global.tls) options.tls = true
  if (x.requestTimeoutMs !== undefined) options.requestTimeoutMs = x.requestTimeoutMs
  if (x.connectTimeoutMs !== undefined) options.connectTimeoutMs = x.connectTimeoutMs
  const fromUrl = parsed.options.sasl
  const wantsSasl = global.saslMechanism ?? global.saslUsername ?? fromUrl
  if (wantsSasl !== undefined) {
    const mechanism = global.saslMechanism ?? fromUrl?.mechanism ?? 'PLAIN'
    const username = global.saslUsername ?? fromUrl?.username
    const password = global.saslPassword ?? fromUrl?.password
    if (username === undefined || username === '') {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `SASL ${mechanism} needs a user name: --sasl-username <name>`,
      )
    }
    if (password === undefined) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `SASL ${mechanism} needs a password: set TRIBUTARY_SASL_PASSWORD (or --sasl-password, visible to other users in ps)`,
      )
    }
    options.sasl = { mechanism, username, password }
  }
  return { url: global.broker, display: parsed.display, options }
}

export function connect(target: BrokerTarget): Transport {
  return openTransport(target.url, target.options)
}

/**
 * Fails a broker round trip that takes longer than `ms`. The transport has its own connection timeout;
 * this is the safety net that keeps a command from hanging on a broker that accepts and never answers.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, display: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TributaryError(
        'TIMEOUT',
        `No answer from the broker at ${display} within ${formatSeconds(ms)} (raise --timeout if the cluster is slow)`,
        { broker: display },
      )
      reject(error)
    }, ms)
  })
  try {
    return await Promise.race([work, deadline])
  } finally {
    clearTimeout(timer)
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`
}
