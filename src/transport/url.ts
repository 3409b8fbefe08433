/** Parses transport URLs: `memory://[name]` and `kafka://[user:pass@]host:port[,host:port][?tls=true&sasl=SCRAM-SHA-256]`. */
import { TributaryError } from '../errors.js'
import type { ConnectionOptions, SaslMechanism } from './types.js'

export type ParsedUrl =
  | { scheme: 'memory'; name: string }
  | { scheme: 'kafka'; brokers: string[]; options: ConnectionOptions; display: string }

const SASL: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']

export function parseTransportUrl(url: string): ParsedUrl {
  const text = url.trim()
  if (text === '')
    throw new TributaryError(
      'INVALID_ARGUMENT',
      'The broker URL is empty; give memory:// or kafka://host:port',
    )
  if (text.startsWith('memory://'))
    return { scheme: 'memory', name: text.slice('memory://'.length) || 'default' }
  // A bare host:port list is taken as kafka://, as Kafka's own tools take --bootstrap-server.
  const rest = text.startsWith('kafka://') ? text.slice('kafka://'.length) : text
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `Unknown broker URL scheme in "${url}"; use memory:// or kafka://host:port`,
    )
  }
  const [authority = '', query = ''] = rest.split('?', 2)
  const at = authority.lastIndexOf('@')
  const userinfo = at >= 0 ? authority.slice(0, at) : ''
  const hosts = at >= 0 ? authority.slice(at + 1) : authority
  const brokers = hosts
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)
  if (brokers.length === 0) throw new TributaryError('INVALID_ARGUMENT', `No broker address in "${url}"`)
  for (const broker of brokers) {
    const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(broker)
    const port = match ? Number(match[2]) : NaN
    if (!match || port < 1 || port > 65535) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Broker address "${broker}" is not host:port (in "${url}")`,
      )
    }
  }
  const params = new URLSearchParams(query)
  const options: ConnectionOptions = {}
  const tls = params.get('tls')
  if (tls !== null) options.tls = tls === '' || tls === 'true' || tls === '1'
  const mechanism = params.get('sasl')?.toUpperCase()
  if (mechanism !== undefined || userinfo !== '') {
    const chosen = (mechanism ?? 'PLAIN') as SaslMechanism
    if (!SASL.includes(chosen)) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Unknown SASL mechanism "${mechanism}"; use one of ${SASL.join(', ')}`,
      )
    }
    const colon = userinfo.indexOf(':')
    if (colon < 0)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `SASL needs user:password@ before the host in the broker URL`,
      )
    options.sasl = {
      mechanism: chosen,
      username: decodeURIComponent(userinfo.slice(0, colon)),
      password: decodeURIComponent(userinfo.slice(colon + 1)),
    }
  }
  return { scheme: 'kafka', brokers, options, display: `kafka://${brokers.join(',')}` }
}
