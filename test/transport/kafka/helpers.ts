/** What the kafka:// transport tests share: where the broker is, unique topics, polling until done. */
import { randomUUID } from 'node:crypto'
import { TributaryError } from '../../../src/errors.js'
import { openTransport } from '../../../src/transport/index.js'
import { parseTransportUrl } from '../../../src/transport/url.js'
import { testBroker, testSaslBroker } from '../../helpers/broker.js'
import type { Transport } from '../../../src/transport/types.js'

export const BROKER = testBroker()

// The SASL_PLAINTEXT listener (SCRAM-SHA-256/512 and PLAIN) from TRIBUTARY_TEST_SASL_BROKER, a URL
// with valid credentials (scripts/test.ts sets it for the project's broker), or undefined when unknown.
const sasl = testSaslBroker()
const parsedSasl = sasl === undefined ? undefined : parseTransportUrl(sasl)
const saslOptions = parsedSasl?.scheme === 'kafka' ? parsedSasl : undefined
/** host:port of the SASL listener. */
export const SASL_ADDRESS: string | undefined = saslOptions?.brokers[0]
export const SASL_USER = saslOptions?.options.sasl?.username ?? 'tributary'
export const SASL_PASSWORD = saslOptions?.options.sasl?.password ?? 'tributary-secret'

export function open(): Transport {
  return openTransport(BROKER)
}

export function uniqueTopic(name = 't'): string {
  return `${name}-${randomUUID()}`
}

export async function createTopic(
  transport: Transport,
  partitions = 1,
  configs?: Record<string, string>,
): Promise<string> {
  const topic = uniqueTopic()
  await transport.admin().createTopics([{ topic, partitions, ...(configs ? { configs } : {}) }])
  return topic
}

export { pollUntil } from '../helpers.js'

/** Asserts a TributaryError with this code whose message matches every pattern. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  ...patterns: RegExp[]
): Promise<TributaryError> {
  try {
    await promise
  } catch (error) {
    if (!(error instanceof TributaryError))
      throw new Error(`expected a TributaryError ${code}, got ${String(error)}`, { cause: error })
    if (error.code !== code)
      throw new Error(`expected code ${code}, got ${error.code}: ${error.message}`, { cause: error })
    for (const pattern of patterns) {
      if (!pattern.test(error.message))
        throw new Error(`message "${error.message}" does not match ${pattern}`, { cause: error })
    }
    return error
  }
  throw new Error(`expected a rejection with ${code}, but it resolved`)
}
