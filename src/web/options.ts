/** The ops server's defaults, and the options resolved once from them and checked. */
import { TributaryError } from '../errors.js'
import type { OpsServerOptions } from './types.js'

export const OPS_SERVER_DEFAULTS = {
  port: 6066,
  host: '127.0.0.1',
  timeoutMs: 5_000,
} as const satisfies Omit<Required<OpsServerOptions>, 'provider'>

export function resolveOpsServerOptions(options: OpsServerOptions): Required<OpsServerOptions> {
  const { provider } = options
  const port = options.port ?? OPS_SERVER_DEFAULTS.port
  const host = options.host ?? OPS_SERVER_DEFAULTS.host
  const timeoutMs = options.timeoutMs ?? OPS_SERVER_DEFAULTS.timeoutMs
  if (typeof provider?.health !== 'function' || typeof provider.stats !== 'function') {
    throw invalid('provider must have health() and stats() methods')
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw invalid(`port must be an integer from 0 to 65535, got ${String(port)}`)
  }
  if (typeof host !== 'string' || host === '') throw invalid('host must be a non-empty string')
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw invalid(`timeoutMs must be a positive number, got ${String(timeoutMs)}`)
  }
  return { provider, port, host, timeoutMs }
}

function invalid(message: string): TributaryError {
  return new TributaryError('INVALID_ARGUMENT', `ops server: ${message}`)
}
