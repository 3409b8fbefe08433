/**
 * `-X name=value`: the Kafka client properties people already have in their client.properties
 * (kcat -X, Kafka's --command-config), for the ones this client has: security, SASL and timeouts.
 * An unknown name is refused with the nearest known one rather than ignored.
 */
import { TributaryError } from '../errors.js'
import type { SaslMechanism } from '../transport/types.js'
import { knownKeys } from '../validate.js'
import { parseInteger, parsePair } from './args.js'

const NAMES = [
  'security.protocol',
  'sasl.mechanism',
  'sasl.mechanisms',
  'sasl.username',
  'sasl.password',
  'request.timeout.ms',
  'socket.connection.setup.timeout.ms',
] as const

const PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']
const MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']

export interface ClientSettings {
  tls?: boolean
  saslMechanism?: SaslMechanism
  saslUsername?: string
  saslPassword?: string
  requestTimeoutMs?: number
  connectTimeoutMs?: number
}

/** What the `-X` settings say; the caller lets a flag given as well win over them. */
export function parseClientSettings(pairs: readonly string[]): ClientSettings {
  const settings: Record<string, string> = {}
  for (const text of pairs) {
    const [name, value] = parsePair(text, '-X')
    settings[name] = value
  }
  knownKeys('-X client setting', settings, NAMES)
  const result: ClientSettings = {}
  const protocol = settings['security.protocol']
  if (protocol !== undefined) {
    const upper = protocol.toUpperCase()
    if (!PROTOCOLS.includes(upper))
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `-X security.protocol must be one of ${PROTOCOLS.join(', ')}, got "${protocol}"`,
      )
    if (upper.endsWith('SSL')) result.tls = true
  }
  const mechanism = settings['sasl.mechanism'] ?? settings['sasl.mechanisms']
  if (mechanism !== undefined) {
    const upper = mechanism.toUpperCase() as SaslMechanism
    if (!MECHANISMS.includes(upper))
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `-X sasl.mechanism must be one of ${MECHANISMS.join(', ')}, got "${mechanism}"`,
      )
    result.saslMechanism = upper
  }
  if (settings['sasl.username'] !== undefined) result.saslUsername = settings['sasl.username']
  if (settings['sasl.password'] !== undefined) result.saslPassword = settings['sasl.password']
  const request = settings['request.timeout.ms']
  if (request !== undefined) result.requestTimeoutMs = parseInteger(request, '-X request.timeout.ms', 1)
  const connect = settings['socket.connection.setup.timeout.ms']
  if (connect !== undefined)
    result.connectTimeoutMs = parseInteger(connect, '-X socket.connection.setup.timeout.ms', 1)
  return result
}
