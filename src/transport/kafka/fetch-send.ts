/**
 * One Fetch request to one broker, on the fetcher's own connections, answered by our own response
 * parser (wire/fetch.ts) instead of platformatic's: the records stay bytes until the fetcher
 * decodes them. No retry here: the fetcher retries every failure itself, with fresh metadata.
 *
 * Leader epochs are not sent (-1, see fetch-plan.ts), so there is none to reset when a connection
 * drops or the broker answers FENCED_LEADER_EPOCH, as platformatic's Consumer.fetch did; that code
 * is a retriable partition error, for which the fetcher clears the metadata and backs off.
 */
import { kGetApi, type Broker, type ConnectionPool, type Consumer as PltConsumer } from '@platformatic/kafka'
import { TributaryError } from '../../errors.js'
import type { FetchRequestTopic } from './fetch-plan.js'
import {
  FETCH_API_KEY,
  FETCH_MAX_VERSION,
  FETCH_MIN_VERSION,
  fetchRequests,
  parseFetchResponse,
  type FetchResult,
  type FetchVersion,
} from './wire/fetch.js'

export interface FetchArguments {
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  /** 0 = read_uncommitted, 1 = read_committed. */
  isolationLevel: number
  topics: FetchRequestTopic[]
}

export type FetchCallback = (error: unknown, result?: FetchResult) => void

export function sendFetch(
  client: PltConsumer,
  pool: ConnectionPool,
  node: number,
  broker: Broker | undefined,
  request: FetchArguments,
  callback: FetchCallback,
): void {
  if (!broker) {
    // The leader named by the metadata is not among its brokers: stale metadata, retried afresh.
    callback(
      new TributaryError(
        'BROKER_UNREACHABLE',
        `Could not fetch records: broker ${node} is not in the metadata`,
        {
          canRetry: true,
        },
      ),
    )
    return
  }
  // The version platformatic agreed with the cluster (ApiVersions, asked once per client).
  client[kGetApi]('Fetch', (error, api) => {
    if (error || !api) {
      callback(error)
      return
    }
    const version = Math.min(api.version, FETCH_MAX_VERSION)
    if (version < FETCH_MIN_VERSION) {
      callback(
        new TributaryError(
          'NOT_SUPPORTED',
          `Could not fetch records: the broker offers Fetch up to v${api.version}; kafka:// reads ` +
            `Fetch v${FETCH_MIN_VERSION} to v${FETCH_MAX_VERSION} (topic ids, Kafka 3.1 and later)`,
          { broker: `${broker.host}:${broker.port}` },
        ),
      )
      return
    }
    const createRequest = fetchRequests[version as FetchVersion]
    const { maxWaitMs, minBytes, maxBytes, isolationLevel, topics } = request
    pool.get(broker, (error, connection) => {
      if (error || !connection) {
        callback(error)
        return
      }
      connection.send(
        FETCH_API_KEY,
        version,
        () => createRequest(maxWaitMs, minBytes, maxBytes, isolationLevel, 0, 0, topics, [], ''),
        parseFetchResponse,
        true,
        true,
        callback,
      )
    })
  })
}
