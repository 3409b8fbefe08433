/** The `kafka://` transport: Admin, Producer and Consumer on @platformatic/kafka, sharing one connection setup. */
import { TributaryError } from '../../errors.js'
import type {
  Admin,
  ConnectionOptions,
  Consumer,
  ConsumerOptions,
  Producer,
  ProducerOptions,
  Transport,
} from '../types.js'
import { KafkaAdmin } from './admin.js'
import { KafkaConsumer } from './consumer.js'
import { resolveConnection, type ResolvedConnection } from './options.js'
import { KafkaProducer } from './producer.js'

interface Closable {
  close(): Promise<void>
}

export function createKafkaTransport(
  brokers: string[],
  options: ConnectionOptions,
  display: string,
): Transport {
  return new KafkaTransport(resolveConnection(brokers, options, display))
}

class KafkaTransport implements Transport {
  readonly url: string
  readonly #connection: ResolvedConnection
  readonly #clients = new Set<Closable>()
  #closed = false

  constructor(connection: ResolvedConnection) {
    this.#connection = connection
    this.url = connection.display
  }

  admin(): Admin {
    return this.#track((onClose) => new KafkaAdmin(this.#connection, onClose))
  }

  producer(options: ProducerOptions = {}): Producer {
    return this.#track((onClose) => new KafkaProducer(this.#connection, options, onClose))
  }

  consumer(options: ConsumerOptions = {}): Consumer {
    return this.#track((onClose) => new KafkaConsumer(this.#connection, options, onClose))
  }

  /** Closes every client still open; each is closed even if another fails, the first failure is thrown. */
  async close(): Promise<void> {
    this.#closed = true
    const clients = [...this.#clients]
    this.#clients.clear()
    const results = await Promise.allSettled(clients.map((c) => c.close()))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  }

  #track<T extends Closable>(create: (onClose: () => void) => T): T {
    if (this.#closed) throw new TributaryError('CLOSED', `The transport ${this.url} is closed`)
    let client: T | undefined = undefined
    client = create(() => {
      if (client) this.#clients.delete(client)
    })
    this.#clients.add(client)
    return client
  }
}
