/** kafka:// Fetch requests of our own: the version agreed with the broker, and clear refusals before any send. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { kGetApi, type ConnectionPool, type Consumer as PltConsumer } from '@platformatic/kafka'
import { TributaryError } from '../../../src/errors.js'
import { sendFetch, type FetchArguments } from '../../../src/transport/kafka/fetch-send.js'

const REQUEST: FetchArguments = { maxWaitMs: 10, minBytes: 1, maxBytes: 1024, isolationLevel: 0, topics: [] }
const BROKER = { host: '127.0.0.1', port: 1 }

/** A client whose ApiVersions agreed on Fetch `version`, and a pool that records what it was asked. */
function fakes(version: number): { client: PltConsumer; pool: ConnectionPool; sent: number[] } {
  const sent: number[] = []
  const client = {
    [kGetApi]: (_name: string, cb: (e: null, api: { version: number }) => void) => cb(null, { version }),
  }
  const pool = {
    get: (_broker: unknown, cb: (e: null, c: unknown) => void) =>
      cb(null, { send: (_key: number, v: number, _payload: unknown, _parser: unknown) => sent.push(v) }),
  }
  return { client: client as unknown as PltConsumer, pool: pool as unknown as ConnectionPool, sent }
}

const send = (version: number, broker: typeof BROKER | null = BROKER): Promise<unknown> =>
  new Promise((resolve) => {
    const { client, pool, sent } = fakes(version)
    sendFetch(client, pool, 1, broker ?? undefined, REQUEST, (error) => resolve(error))
    setImmediate(() => resolve(sent))
  })

describe('Fetch request sending (no broker)', () => {
  test('the request goes out in the version agreed with the broker', async () => {
    assert.deepEqual(await send(15), [15])
    assert.deepEqual(await send(17), [17])
  })

  test('a broker without topic-id fetches (below v13) is refused, naming the versions', async () => {
    const error = await send(12)
    assert.ok(error instanceof TributaryError)
    assert.equal(error.code, 'NOT_SUPPORTED')
    assert.match(error.message, /up to v12.*v13 to v17/)
  })

  test('a leader missing from the metadata is a transient failure, retried with fresh metadata', async () => {
    const error = await send(17, null)
    assert.ok(error instanceof TributaryError)
    assert.equal(error.code, 'BROKER_UNREACHABLE')
    assert.equal(error.canRetry, true)
  })
})
