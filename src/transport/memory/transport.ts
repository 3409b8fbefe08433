/**
 * `memory://[name]`: the embedded broker. Every transport opened on one name shares one broker (see
 * broker.ts), so data and committed offsets outlive the clients and transports that wrote them.
 */
import { TributaryError } from '../../errors.js'
import type { Admin, Consumer, ConsumerOptions, Producer, ProducerOptions, Transport } from '../types.js'
import { MemoryAdmin } from './admin.js'
import { getMemoryBroker, type MemoryBroker } from './broker.js'
import { MemoryConsumer } from './consumer.js'
import type { FaultSpec } from './faults.js'
import type { BrokerSettings } from './log.js'
import { MemoryProducer } from './producer.js'
import { closedError } from './util.js'

export { getMemoryBroker, resetMemoryBroker } from './broker.js'
export type { FaultApi, FaultSpec, KafkaErrorName } from './faults.js'

interface Closeable {
  close(): Promise<void>
}

class MemoryTransport implements Transport {
  readonly url: string
  private readonly broker: MemoryBroker
  private readonly clients = new Set<Closeable>()
  private closed = false

  constructor(name: string) {
    this.broker = getMemoryBroker(name)
    this.url = name === 'default' ? 'memory://' : `memory://${name}`
  }

  admin(): Admin {
    return this.track((done) => new MemoryAdmin(this.broker, done))
  }

  producer(options: ProducerOptions = {}): Producer {
    return this.track((done) => new MemoryProducer(this.broker, options, done))
  }

  consumer(options: ConsumerOptions = {}): Consumer {
    return this.track((done) => new MemoryConsumer(this.broker, options, done))
  }

  async close(): Promise<void> {
    this.closed = true
    const results = await Promise.allSettled([...this.clients].map((client) => client.close()))
    this.clients.clear()
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  }

  private track<T extends Closeable>(make: (done: () => void) => T): T {
    if (this.closed) throw closedError('transport')
    this.broker.check()
    let client: T | undefined = undefined
    const done = (): void => {
      if (client) this.clients.delete(client)
    }
    client = make(done)
    this.clients.add(client)
    return client
  }
}

/** Broker configs a `memory://` URL may set, by their Kafka names. */
const SETTINGS: Record<string, keyof BrokerSettings> = {
  'log.retention.check.interval.ms': 'retentionCheckIntervalMs',
}

/**
 * Opens the embedded broker `name` ('default' for `memory://`), creating it on first use. Broker
 * configs may follow the name as a query: `memory://test?log.retention.check.interval.ms=0`.
 */
export function createMemoryTransport(name: string): Transport {
  const [base = '', query = ''] = name.split('?', 2)
  const settings: Partial<BrokerSettings> = {}
  for (const [key, value] of new URLSearchParams(query)) {
    const field = SETTINGS[key]
    const number = Number(value)
    if (!field || value.trim() === '' || !Number.isInteger(number) || number < 0) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `Unknown or invalid memory:// broker setting ${key}=${value}; known: ${Object.keys(SETTINGS).join(', ')}`,
      )
    }
    settings[field] = number
  }
  const transport = new MemoryTransport(base || 'default')
  Object.assign(getMemoryBroker(base || 'default').settings, settings)
  return transport
}

/**
 * Makes the next call(s) of a broker API fail with an error, for fast tests of failure paths: a
 * transient error (canRetry) on produce or fetch behaves like an outage that send()/poll() surface
 * and the client then rides through; failing every heartbeat of one client gets it evicted after
 * its session timeout. Returns a function that disarms the fault. Faults go with resetMemoryBroker.
 * @param broker the broker's name, or its URL (`memory://name`; `memory://` is "default")
 */
export function injectFault(broker: string, fault: FaultSpec): () => void {
  if (typeof broker !== 'string')
    throw new TributaryError('INVALID_ARGUMENT', 'injectFault() needs the memory broker name or URL')
  const name = broker.replace(/^memory:\/\//, '').split('?', 1)[0] || 'default'
  return getMemoryBroker(name).faults.add(fault)
}
