/** Opens a transport by URL scheme: `memory://` (embedded broker) or `kafka://` (a real cluster). */
import { createKafkaTransport } from './kafka/transport.js'
import { createMemoryTransport } from './memory/transport.js'
import type { ConnectionOptions, Transport } from './types.js'
import { parseTransportUrl } from './url.js'

export { injectFault } from './memory/transport.js'
export type { FaultApi, FaultSpec, KafkaErrorName } from './memory/transport.js'

/**
 * Opens a transport. Options given here override those in the URL.
 * @param url `memory://[name]` or `kafka://[user:pass@]host:port[,host:port][?tls=true&sasl=SCRAM-SHA-256]`
 */
export function openTransport(url: string, options: ConnectionOptions = {}): Transport {
  const parsed = parseTransportUrl(url)
  if (parsed.scheme === 'memory') return createMemoryTransport(parsed.name)
  return createKafkaTransport(parsed.brokers, { ...parsed.options, ...options }, parsed.display)
}
