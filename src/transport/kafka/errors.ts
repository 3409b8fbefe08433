/** Maps @platformatic/kafka errors (nested MultipleErrors, causes, protocol codes) to TributaryError. */
import { TributaryError, type ErrorCode } from '../../errors.js'

export interface ErrorContext {
  /** What was being done, e.g. `create topic "orders"`; starts the message. */
  action: string
  /** The bootstrap brokers, named when no broker answered. */
  brokers: readonly string[]
  sasl?: { mechanism: string; username: string } | undefined
  topic?: string | undefined
  partition?: number | undefined
  group?: string | undefined
}

/** A platformatic error as found in the tree, loosely typed: every field is optional. */
interface Found {
  code?: string
  apiId?: string
  serverErrorMessage?: string | null
  message?: string
  canRetry?: boolean
  closed?: boolean
  errors?: unknown[]
  cause?: unknown
}

/** Broker error codes (by platformatic's apiId) that have a Tributary meaning. */
const PROTOCOL_CODES: Record<string, ErrorCode> = {
  UNKNOWN_TOPIC_OR_PARTITION: 'UNKNOWN_TOPIC',
  UNKNOWN_TOPIC_ID: 'UNKNOWN_TOPIC',
  TOPIC_ALREADY_EXISTS: 'TOPIC_EXISTS',
  INVALID_PARTITIONS: 'INVALID_PARTITIONS',
  INVALID_REPLICATION_FACTOR: 'INVALID_ARGUMENT',
  INVALID_REPLICA_ASSIGNMENT: 'INVALID_ARGUMENT',
  INVALID_TOPIC_EXCEPTION: 'INVALID_ARGUMENT',
  INVALID_CONFIG: 'INVALID_CONFIG',
  GROUP_ID_NOT_FOUND: 'UNKNOWN_GROUP',
  NON_EMPTY_GROUP: 'GROUP_NOT_EMPTY',
  GROUP_SUBSCRIBED_TO_TOPIC: 'GROUP_NOT_EMPTY',
  INVALID_GROUP_ID: 'INVALID_ARGUMENT',
  INVALID_SESSION_TIMEOUT: 'INVALID_ARGUMENT',
  INVALID_TRANSACTION_TIMEOUT: 'INVALID_ARGUMENT',
  INCONSISTENT_GROUP_PROTOCOL: 'INVALID_ARGUMENT',
  // Zombie fencing: a newer producer epoch owns the transactional id.
  INVALID_PRODUCER_EPOCH: 'FENCED',
  PRODUCER_FENCED: 'FENCED',
  TRANSACTION_COORDINATOR_FENCED: 'FENCED',
  INVALID_TXN_STATE: 'TRANSACTION',
  INVALID_PRODUCER_ID_MAPPING: 'TRANSACTION',
  TRANSACTION_ABORTABLE: 'TRANSACTION',
  // The group moved on: this member's generation can no longer commit.
  ILLEGAL_GENERATION: 'REBALANCE',
  UNKNOWN_MEMBER_ID: 'REBALANCE',
  REBALANCE_IN_PROGRESS: 'REBALANCE',
  FENCED_INSTANCE_ID: 'REBALANCE',
  STALE_MEMBER_EPOCH: 'REBALANCE',
  FENCED_MEMBER_EPOCH: 'REBALANCE',
  SASL_AUTHENTICATION_FAILED: 'AUTHENTICATION_FAILED',
  UNSUPPORTED_SASL_MECHANISM: 'AUTHENTICATION_FAILED',
  ILLEGAL_SASL_STATE: 'AUTHENTICATION_FAILED',
  UNSUPPORTED_COMPRESSION_TYPE: 'NOT_SUPPORTED',
  UNSUPPORTED_VERSION: 'NOT_SUPPORTED',
  REQUEST_TIMED_OUT: 'TIMEOUT',
}

/** Every error in a platformatic error tree (AggregateError members and causes), depth first. */
function flatten(error: unknown, into: Found[] = [], depth = 0): Found[] {
  if (error === null || typeof error !== 'object' || depth > 8) return into
  const found = error as Found
  into.push(found)
  if (Array.isArray(found.errors)) for (const inner of found.errors) flatten(inner, into, depth + 1)
  if (found.cause !== undefined) flatten(found.cause, into, depth + 1)
  return into
}

/** Connection addresses named by platformatic's "Connection to host:port failed." messages. */
function addressesIn(all: Found[]): string[] {
  const addresses = new Set<string>()
  for (const e of all) {
    const match = /Connection to (\S+?) (?:failed|timed out)/.exec(e.message ?? '')
    if (match?.[1]) addresses.add(match[1])
  }
  return [...addresses]
}

function reasonsIn(all: Found[]): string {
  const reasons = new Set<string>()
  for (const e of all) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) reasons.add(code)
    else if (/timed out/.test(e.message ?? '')) reasons.add('timed out')
    else if (/TLS handshake/.test(e.message ?? '')) reasons.add(e.message ?? '')
  }
  return [...reasons].join(', ')
}

export function toTributaryError(error: unknown, context: ErrorContext): TributaryError {
  if (error instanceof TributaryError) return error
  const all = flatten(error)
  const details = { cause: error, topic: context.topic, partition: context.partition }
  const top = all[0]

  const auth = all.find(
    (e) => e.code === 'PLT_KFK_AUTHENTICATION' || PROTOCOL_CODES[e.apiId ?? ''] === 'AUTHENTICATION_FAILED',
  )
  if (auth) {
    const at = addressesIn(all).join(', ') || context.brokers.join(', ')
    const who = context.sasl
      ? `user ${context.sasl.username} with ${context.sasl.mechanism}`
      : 'this client (no SASL configured)'
    return new TributaryError(
      'AUTHENTICATION_FAILED',
      `Authentication failed for ${who} at ${at} (${context.action})`,
      {
        ...details,
        broker: at,
      },
    )
  }

  const protocol = all.find((e) => e.code === 'PLT_KFK_PROTOCOL' && e.apiId !== undefined)
  if (protocol?.apiId) {
    const code = PROTOCOL_CODES[protocol.apiId] ?? 'KAFKA'
    let what = `${protocol.serverErrorMessage || protocol.message || 'the broker refused'} (${protocol.apiId})`
    if (code === 'UNKNOWN_TOPIC' && context.topic !== undefined)
      what = `topic "${context.topic}" does not exist`
    if (code === 'TOPIC_EXISTS' && context.topic !== undefined)
      what = `topic "${context.topic}" already exists`
    if (code === 'UNKNOWN_GROUP' && context.group !== undefined)
      what = `group "${context.group}" does not exist`
    return new TributaryError(code, `Could not ${context.action}: ${what}`, {
      ...details,
      canRetry: protocol.canRetry === true,
    })
  }

  const unknownTopic = all.find((e) => e.code === 'PLT_KFK_USER' && /^Unknown topic /.test(e.message ?? ''))
  if (unknownTopic) {
    const name = context.topic ?? /^Unknown topic (.*)\.$/.exec(unknownTopic.message ?? '')?.[1] ?? '?'
    return new TributaryError(
      'UNKNOWN_TOPIC',
      `Could not ${context.action}: topic "${name}" does not exist`,
      {
        ...details,
        topic: name,
      },
    )
  }

  if (all.some((e) => e.code === 'PLT_KFK_UNSUPPORTED_COMPRESSION')) {
    const message = all.find((e) => e.code === 'PLT_KFK_UNSUPPORTED_COMPRESSION')?.message ?? ''
    return new TributaryError('NOT_SUPPORTED', `Could not ${context.action}: ${message}`, details)
  }

  if (all.some((e) => e.closed === true || /(Client|Connection pool) is closed/.test(e.message ?? ''))) {
    return new TributaryError('CLOSED', `Could not ${context.action}: the client is closed`, details)
  }

  const network = all.filter((e) => e.code === 'PLT_KFK_NETWORK' || e.code === 'PLT_KFK_TIMEOUT')
  if (network.length > 0) {
    const addresses = addressesIn(all)
    if (addresses.length === 0 && network.some((e) => /Request timed out/.test(e.message ?? ''))) {
      return new TributaryError('TIMEOUT', `Could not ${context.action}: a broker did not answer in time`, {
        ...details,
        canRetry: true,
      })
    }
    return unreachable(context, addresses, reasonsIn(all), error)
  }

  const message = top?.message ?? String(error)
  return new TributaryError('KAFKA', `Could not ${context.action}: ${message}`, details)
}

export function unreachable(
  context: ErrorContext,
  tried: string[],
  reason: string,
  cause?: unknown,
): TributaryError {
  const addresses = (tried.length > 0 ? tried : context.brokers).join(', ')
  const why = reason ? ` (${reason})` : ''
  // Refused, unknown or unroutable: nothing listens. Otherwise something took the connection and
  // never answered a plain Kafka request, as a SASL or TLS listener does.
  const nothingListens = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN/.test(reason)
  const hint =
    context.sasl === undefined && !nothingListens
      ? '; a broker that accepts the connection but does not answer may be a listener that needs SASL ' +
        '(--sasl-mechanism and --sasl-username, or kafka://user:password@host:port?sasl=SCRAM-SHA-256) or TLS (--tls, ?tls=true)'
      : ''
  return new TributaryError(
    'BROKER_UNREACHABLE',
    `Could not ${context.action}: no broker answered at ${addresses}${why}${hint}`,
    {
      broker: addresses,
      cause,
      canRetry: true,
    },
  )
}

/** What a listener or a background task threw, as an Error to rethrow. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

export function isAuthenticationFailure(error: unknown): boolean {
  return flatten(error).some(
    (e) => e.code === 'PLT_KFK_AUTHENTICATION' || PROTOCOL_CODES[e.apiId ?? ''] === 'AUTHENTICATION_FAILED',
  )
}

/** The protocol error id (e.g. `OFFSET_OUT_OF_RANGE`) anywhere in the tree, if any. */
export function protocolIds(error: unknown): string[] {
  return flatten(error).flatMap((e) => (e.code === 'PLT_KFK_PROTOCOL' && e.apiId ? [e.apiId] : []))
}

/** The last parsed response carried by a platformatic ResponseError in the tree (per-partition errors). */
export function responseIn<T>(error: unknown): T | undefined {
  let response: T | undefined
  for (const e of flatten(error)) {
    const carried = (e as { response?: T }).response
    if (carried !== undefined && carried !== null) response = carried
  }
  return response
}
