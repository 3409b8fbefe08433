/** Resolves our option objects once, with their defaults, into what @platformatic/kafka takes. */
import zlib from 'node:zlib'
import type { BaseOptions, RetryDelayGetter } from '@platformatic/kafka'
import { TributaryError } from '../../errors.js'
import type {
  Acks,
  Compression,
  ConnectionOptions,
  ConsumerOptions,
  IsolationLevel,
  OffsetReset,
  ProducerOptions,
} from '../types.js'
import { isAuthenticationFailure, protocolIds } from './errors.js'

/**
 * A cluster that never answered this client fails every call within this time (connect attempts
 * included). Once it answered, an outage is ridden through, and a consumer reports one that lasts
 * this long once (canRetry: true) from `poll`.
 */
export const UNREACHABLE_AFTER_MS = 14_000
/**
 * Records buffered ahead of `poll`, over every partition that is not paused, before the consumer
 * stops fetching (backpressure); a larger per-partition budget raises it to that budget.
 */
export const MAX_BUFFERED_RECORDS = 10_000
/** Records buffered ahead of `poll` per partition (ConsumerOptions.maxBufferedRecordsPerPartition). */
export const MAX_BUFFERED_RECORDS_PER_PARTITION = 2_000
/**
 * How long a send may be retried through transient failures (broker restarting, leader moving,
 * cannot connect) before it fails with canRetry: true: Kafka's delivery.timeout.ms default. An
 * idempotent producer retries with the same sequence numbers, so a retry never writes twice.
 */
export const DELIVERY_TIMEOUT_MS = 120_000
/** Kafka's transaction.timeout.ms default for this producer (ProducerOptions.transactionTimeoutMs). */
export const TRANSACTION_TIMEOUT_MS = 10_000
/** Bytes asked of the broker per fetch, in all and per partition (Kafka's fetch.max.bytes). */
export const FETCH_MAX_BYTES = 50 * 1024 * 1024
export const FETCH_PARTITION_MAX_BYTES = 1024 * 1024
/**
 * The estimated bytes of records sent in one produce request. The broker refuses a record batch
 * above message.max.bytes (1 MiB by default), and a request holds one batch per partition.
 */
export const PRODUCE_REQUEST_BYTES = 1_000_000

/**
 * How long the group waits, once a rebalance started, for every member to join again (JoinGroup's
 * rebalance_timeout_ms; Kafka's Java consumer uses max.poll.interval.ms, 5 minutes by default).
 * A member joins again only after its onRevoked finished (see group.ts), so this bounds how long
 * onRevoked may take while another rebalance waits for us; past it the member is dropped from the
 * group and its partitions move without its final commit. Generous on purpose: a member that died
 * is still removed after its session timeout, so only a live member stuck in onRevoked can hold a
 * rebalance up this long. Heartbeats go on during onRevoked, so outside a rebalance it is unbounded.
 */
export const REBALANCE_TIMEOUT_MS = 300_000

export interface ResolvedConnection {
  brokers: readonly string[]
  display: string
  connectTimeoutMs: number
  requestTimeoutMs: number
  tls: boolean | Record<string, unknown> | undefined
  sasl: ConnectionOptions['sasl']
  /**
   * Whether the cluster has answered any client of this transport. The first-contact bound (link.ts)
   * exists to report a wrong address or a dead cluster quickly; once one client got an answer, the
   * address is right, and a client that first speaks during an outage rides it through too.
   */
  reached: { answered: boolean }
}

export function resolveConnection(
  brokers: string[],
  options: ConnectionOptions,
  display: string,
): ResolvedConnection {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000
  for (const [name, value] of Object.entries({ connectTimeoutMs, requestTimeoutMs })) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `${name} must be a positive integer of milliseconds, got ${value}`,
      )
    }
  }
  return {
    brokers,
    display,
    connectTimeoutMs,
    requestTimeoutMs,
    tls: options.tls,
    sasl: options.sasl,
    reached: { answered: false },
  }
}

/**
 * Backs off 100, 200, 400, 800, 1000 ms: five retries ride out a leader move or a coordinator load.
 * A missing topic is retried briefly only (metadata just catching up with a creation): with no
 * auto-creation it is an answer, not a transient state, and UNKNOWN_TOPIC should come at once.
 */
const retryDelay: RetryDelayGetter = (_client, _operation, attempt, _retries, error) => {
  if (protocolIds(error).some((id) => id === 'UNKNOWN_TOPIC_OR_PARTITION' || id === 'UNKNOWN_TOPIC_ID'))
    return 20
  // Refused credentials stay refused; platformatic still retries them (wrapped in a network error).
  if (isAuthenticationFailure(error)) return 0
  return Math.min(100 * 2 ** (attempt - 1), 1000)
}

export function baseOptions(connection: ResolvedConnection, clientId: string): BaseOptions {
  const options: BaseOptions = {
    clientId,
    bootstrapBrokers: [...connection.brokers],
    connectTimeout: connection.connectTimeoutMs,
    requestTimeout: connection.requestTimeoutMs,
    // The time the broker itself may take (acks, topic creation, transaction timeout).
    timeout: connection.requestTimeoutMs,
    retries: 5,
    retryDelay,
    autocreateTopics: false,
  }
  if (connection.tls) options.tls = connection.tls === true ? {} : connection.tls
  if (connection.sasl) {
    const { mechanism, username, password } = connection.sasl
    options.sasl = { mechanism, username, password }
  }
  return options
}

export interface ResolvedProducerOptions {
  clientId: string
  acks: Acks
  compression: Compression
  idempotent: boolean
  transactionalId: string | undefined
  transactionTimeoutMs: number
}

/** Whether this Node.js can compress with zstd (node:zlib has it from Node 22.15 / 23.8). */
export const zstdAvailable = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function'

export function resolveProducerOptions(options: ProducerOptions): ResolvedProducerOptions {
  const acks = options.acks ?? 'all'
  if (acks !== 0 && acks !== 1 && acks !== 'all') {
    throw new TributaryError('INVALID_ARGUMENT', `acks must be 0, 1 or 'all', got ${String(acks)}`)
  }
  const compression = options.compression ?? 'none'
  if (!['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(compression)) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `Unknown compression "${compression}"; use none, gzip, snappy, lz4 or zstd`,
    )
  }
  if (compression === 'zstd' && !zstdAvailable) {
    throw new TributaryError(
      'NOT_SUPPORTED',
      `zstd compression needs Node.js >= 22.15 (node:zlib zstd); this is ${process.version}. Use lz4, snappy or gzip`,
    )
  }
  const transactionalId = options.transactionalId
  const idempotent = options.idempotent ?? (acks === 'all' || transactionalId !== undefined)
  if (idempotent && acks !== 'all') {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `An idempotent producer needs acks 'all', got ${String(acks)}`,
    )
  }
  if (transactionalId !== undefined && !idempotent) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      'A transactional producer is idempotent; do not set idempotent: false',
    )
  }
  if (transactionalId !== undefined && transactionalId.trim() === '') {
    throw new TributaryError('INVALID_ARGUMENT', 'transactionalId must not be empty')
  }
  const transactionTimeoutMs = options.transactionTimeoutMs ?? TRANSACTION_TIMEOUT_MS
  if (!Number.isInteger(transactionTimeoutMs) || transactionTimeoutMs <= 0) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `transactionTimeoutMs must be a positive integer of milliseconds, got ${transactionTimeoutMs}`,
    )
  }
  return {
    clientId: options.clientId ?? 'tributary',
    acks,
    compression,
    idempotent,
    transactionalId,
    transactionTimeoutMs,
  }
}

export interface ResolvedConsumerOptions {
  groupId: string | undefined
  clientId: string
  isolationLevel: IsolationLevel
  offsetReset: OffsetReset
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  /** How long the group waits for members to rejoin during a rebalance. */
  rebalanceTimeoutMs: number
  maxWaitMs: number
  groupInstanceId: string | undefined
  maxBufferedRecordsPerPartition: number
}

/** Kafka's rule for group.instance.id (as for topic names): legal characters, at most 249 of them. */
const INSTANCE_ID = /^[a-zA-Z0-9._-]{1,249}$/

export function resolveConsumerOptions(options: ConsumerOptions): ResolvedConsumerOptions {
  const resolved = {
    groupId: options.groupId,
    clientId: options.clientId ?? 'tributary',
    isolationLevel: options.isolationLevel ?? 'read_uncommitted',
    offsetReset: options.offsetReset ?? 'latest',
    sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3_000,
    maxWaitMs: options.maxWaitMs ?? 500,
    groupInstanceId: options.groupInstanceId,
    maxBufferedRecordsPerPartition:
      options.maxBufferedRecordsPerPartition ?? MAX_BUFFERED_RECORDS_PER_PARTITION,
  }
  if (resolved.groupId !== undefined && !/^\S+$/.test(resolved.groupId)) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `groupId must be a non-empty string without spaces, got "${resolved.groupId}"`,
    )
  }
  if (!['read_uncommitted', 'read_committed'].includes(resolved.isolationLevel)) {
    throw new TributaryError('INVALID_ARGUMENT', `Unknown isolationLevel "${resolved.isolationLevel}"`)
  }
  if (!['earliest', 'latest', 'none'].includes(resolved.offsetReset)) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `Unknown offsetReset "${resolved.offsetReset}"; use earliest, latest or none`,
    )
  }
  for (const name of ['sessionTimeoutMs', 'heartbeatIntervalMs', 'maxWaitMs'] as const) {
    const value = resolved[name]
    if (!Number.isInteger(value) || value < 0) {
      throw new TributaryError('INVALID_ARGUMENT', `${name} must be a non-negative integer, got ${value}`)
    }
  }
  const { groupInstanceId, maxBufferedRecordsPerPartition } = resolved
  if (groupInstanceId !== undefined && !INSTANCE_ID.test(groupInstanceId)) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `groupInstanceId must be 1 to 249 of the characters a-z A-Z 0-9 . _ -, got "${groupInstanceId}"`,
    )
  }
  if (groupInstanceId !== undefined && resolved.groupId === undefined) {
    throw new TributaryError('INVALID_ARGUMENT', 'groupInstanceId needs a groupId')
  }
  if (!Number.isInteger(maxBufferedRecordsPerPartition) || maxBufferedRecordsPerPartition < 1) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `maxBufferedRecordsPerPartition must be a positive integer, got ${maxBufferedRecordsPerPartition}`,
    )
  }
  if (resolved.heartbeatIntervalMs > resolved.sessionTimeoutMs) {
    throw new TributaryError('INVALID_ARGUMENT', 'heartbeatIntervalMs must not exceed sessionTimeoutMs')
  }
  return { ...resolved, rebalanceTimeoutMs: Math.max(REBALANCE_TIMEOUT_MS, resolved.sessionTimeoutMs) }
}
