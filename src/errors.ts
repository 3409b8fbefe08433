/** One root error for Tributary, with stable codes and the Kafka coordinates when known. */

export type ErrorCode =
  | 'INVALID_ARGUMENT' // a caller passed something malformed (options, URLs, delimiters)
  | 'BROKER_UNREACHABLE' // no broker answered at the given address in time
  | 'AUTHENTICATION_FAILED' // SASL handshake or credentials refused
  | 'UNKNOWN_TOPIC' // topic does not exist
  | 'TOPIC_EXISTS' // topic already exists
  | 'INVALID_PARTITIONS' // partition count or partition number out of range
  | 'INVALID_CONFIG' // unknown topic config name or bad value
  | 'UNKNOWN_GROUP' // consumer group does not exist
  | 'GROUP_NOT_EMPTY' // the group has live members, and the operation needs it empty
  | 'NOT_SUPPORTED' // the operation cannot be done on this transport
  | 'TIMEOUT' // an operation did not finish in time
  | 'FENCED' // a newer producer or group generation took over (zombie fencing)
  | 'REBALANCE' // group membership changed under an operation (commit of a revoked partition)
  | 'TRANSACTION' // a transaction was used in a wrong state
  | 'CLOSED' // the client was closed
  | 'NOT_HERE' // a table key whose partition this worker does not hold now (another one does, or it is moving)
  | 'KAFKA' // any other error the broker returned

export interface ErrorDetails {
  topic?: string
  partition?: number
  offset?: number
  /** The address of the broker that was tried, for connection errors. */
  broker?: string
  cause?: unknown
  /** True when repeating the same call may succeed. @default false */
  canRetry?: boolean
}

export class TributaryError extends Error {
  readonly code: ErrorCode
  readonly topic: string | undefined
  readonly partition: number | undefined
  readonly offset: number | undefined
  readonly broker: string | undefined
  readonly canRetry: boolean

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'TributaryError'
    this.code = code
    this.topic = details.topic
    this.partition = details.partition
    this.offset = details.offset
    this.broker = details.broker
    this.canRetry = details.canRetry ?? false
  }
}

/** Formats topic/partition/offset as `topic[partition]@offset`, the way errors and logs name a record. */
export function coordinates(topic: string, partition?: number, offset?: number): string {
  let text = topic
  if (partition !== undefined) text += `[${partition}]`
  if (offset !== undefined) text += `@${offset}`
  return text
}
