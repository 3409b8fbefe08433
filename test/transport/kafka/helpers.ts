/** What the kafka:// transport tests share: where the broker is, unique topics, polling until done. */
import { randomUUID } from 'node:crypto'
import { TributaryError } from '../../../src/errors.js'
import { openTransport } from '../../../src/transport/index.js'
import type { ConsumedRecord, Consumer, Transport } from '../../../src/transport/types.js'

export const BROKER = process.env.TRIBUTARY_TEST_BROKER ?? 'kafka://127.0.0.1:19092'

/** host:port of the SASL_PLAINTEXT listener (SCRAM-SHA-256/512 and PLAIN), or undefined when not known. */
export const SASL_ADDRESS: string | undefined =
  process.env.TRIBUTARY_TEST_SASL_ADDRESS ??
  (process.env.TRIBUTARY_TEST_BROKER ? undefined : '127.0.0.1:19093')
export const SASL_USER = process.env.TRIBUTARY_TEST_SASL_USER ?? 'tributary'
export const SASL_PASSWORD = process.env.TRIBUTARY_TEST_SASL_PASSWORD ?? 'tributary-secret'

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

export async function pollUntil(
  consumer: Consumer,
  done: (all: ConsumedRecord[]) => boolean,
  timeoutMs = 20_000,
): Promise<ConsumedRecord[]> {
  const all: ConsumedRecord[] = []
  const deadline = Date.now() + timeoutMs
  while (!done(all)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms with ${all.length} records`)
    all.push(...(await consumer.poll({ timeoutMs: 200 })))
  }
  return all
}

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
