/**
 * Fault injection for the embedded broker: "the next call(s) of this API fail with this error", so
 * tests of failure paths (a leader election during a produce, a coordinator moving during a commit,
 * a member whose heartbeats stop) run in milliseconds instead of needing a broken cluster.
 */
import { TributaryError, type ErrorCode } from '../../errors.js'

/** The broker APIs a fault can hit, by what the client was doing (Kafka's request names in brackets). */
export type FaultApi =
  | 'produce' // send() [Produce]
  | 'fetch' // poll() reading assigned partitions [Fetch]
  | 'commit' // consumer.commit() [OffsetCommit]
  | 'heartbeat' // the background heartbeat of a group member [Heartbeat]
  | 'join' // subscribe(), and the rejoin after a lost membership [JoinGroup]
  | 'sendOffsets' // transaction.sendOffsets() [AddOffsetsToTxn/TxnOffsetCommit]
  | 'endTxn' // transaction.commit()/abort() [EndTxn]
  | 'listOffsets' // admin.listOffsets() [ListOffsets]

export interface FaultSpec {
  api: FaultApi
  /** A Tributary error code (`'TIMEOUT'`) or a Kafka error name (`'NOT_LEADER_OR_FOLLOWER'`). */
  code: ErrorCode | KafkaErrorName
  /** How many calls fail; Infinity until the returned remover is called. @default 1 */
  times?: number
  /** Whether the error says a retry may succeed. @default as Kafka classifies the named error, else false */
  canRetry?: boolean
  /** Only calls made by clients with this clientId (the default clientId is 'tributary'). @default every client */
  clientId?: string
}

const APIS: readonly FaultApi[] = [
  'produce',
  'fetch',
  'commit',
  'heartbeat',
  'join',
  'sendOffsets',
  'endTxn',
  'listOffsets',
]

const CODES: readonly ErrorCode[] = [
  'INVALID_ARGUMENT',
  'BROKER_UNREACHABLE',
  'AUTHENTICATION_FAILED',
  'UNKNOWN_TOPIC',
  'TOPIC_EXISTS',
  'INVALID_PARTITIONS',
  'INVALID_CONFIG',
  'UNKNOWN_GROUP',
  'NOT_SUPPORTED',
  'TIMEOUT',
  'FENCED',
  'REBALANCE',
  'TRANSACTION',
  'CLOSED',
  'KAFKA',
]

/** Kafka error names worth injecting: our code for each, and whether Kafka calls it retriable. */
const KAFKA_ERRORS = {
  NOT_LEADER_OR_FOLLOWER: ['KAFKA', true],
  LEADER_NOT_AVAILABLE: ['KAFKA', true],
  UNKNOWN_TOPIC_OR_PARTITION: ['UNKNOWN_TOPIC', true],
  REQUEST_TIMED_OUT: ['TIMEOUT', true],
  NETWORK_EXCEPTION: ['BROKER_UNREACHABLE', true],
  NOT_ENOUGH_REPLICAS: ['KAFKA', true],
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: ['KAFKA', true],
  KAFKA_STORAGE_ERROR: ['KAFKA', true],
  CORRUPT_MESSAGE: ['KAFKA', true],
  COORDINATOR_NOT_AVAILABLE: ['KAFKA', true],
  COORDINATOR_LOAD_IN_PROGRESS: ['KAFKA', true],
  NOT_COORDINATOR: ['KAFKA', true],
  CONCURRENT_TRANSACTIONS: ['KAFKA', true],
  UNSTABLE_OFFSET_COMMIT: ['KAFKA', true],
  REBALANCE_IN_PROGRESS: ['REBALANCE', false],
  ILLEGAL_GENERATION: ['REBALANCE', false],
  UNKNOWN_MEMBER_ID: ['REBALANCE', false],
  FENCED_INSTANCE_ID: ['REBALANCE', false],
  PRODUCER_FENCED: ['FENCED', false],
  INVALID_PRODUCER_EPOCH: ['FENCED', false],
  INVALID_TXN_STATE: ['TRANSACTION', false],
  TRANSACTION_ABORTABLE: ['TRANSACTION', false],
  MESSAGE_TOO_LARGE: ['KAFKA', false],
  GROUP_AUTHORIZATION_FAILED: ['KAFKA', false],
  TOPIC_AUTHORIZATION_FAILED: ['KAFKA', false],
  UNKNOWN_SERVER_ERROR: ['KAFKA', false],
} satisfies Record<string, [ErrorCode, boolean]>

/** The Kafka error names a fault may be given by. */
export type KafkaErrorName = keyof typeof KAFKA_ERRORS

interface ArmedFault {
  api: FaultApi
  code: ErrorCode
  name: string
  canRetry: boolean
  clientId: string | undefined
  left: number
}

/** One broker's armed faults, consumed in the order they were injected. */
export class Faults {
  private readonly armed: ArmedFault[] = []

  constructor(private readonly brokerName: string) {}

  /** Validates and arms a fault; returns a function that disarms it (idempotent). */
  add(spec: FaultSpec): () => void {
    const where = `injectFault(${JSON.stringify(this.brokerName)})`
    if (typeof spec !== 'object' || spec === null)
      throw new TributaryError('INVALID_ARGUMENT', `${where} needs a fault spec`)
    if (!APIS.includes(spec.api))
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `${where}: unknown api ${String(spec.api)}; use ${APIS.join(', ')}`,
      )
    const named = (KAFKA_ERRORS as Record<string, [ErrorCode, boolean] | undefined>)[spec.code]
    if (!named && !CODES.includes(spec.code as ErrorCode)) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `${where}: unknown error ${String(spec.code)}; use a Tributary code (${CODES.join(', ')}) or a Kafka error name (${Object.keys(KAFKA_ERRORS).join(', ')})`,
      )
    }
    const times = spec.times ?? 1
    if (times !== Infinity && (!Number.isInteger(times) || times < 1))
      throw new TributaryError('INVALID_ARGUMENT', `${where}: times must be a positive integer or Infinity`)
    if (spec.clientId !== undefined && typeof spec.clientId !== 'string')
      throw new TributaryError('INVALID_ARGUMENT', `${where}: clientId must be a string`)
    const fault: ArmedFault = {
      api: spec.api,
      code: named ? named[0] : (spec.code as ErrorCode),
      name: String(spec.code),
      canRetry: spec.canRetry ?? named?.[1] ?? false,
      clientId: spec.clientId,
      left: times,
    }
    this.armed.push(fault)
    return () => {
      const index = this.armed.indexOf(fault)
      if (index >= 0) this.armed.splice(index, 1)
    }
  }

  /**
   * The error this call must fail with, if a fault is armed for it (one use of the fault is spent).
   * `what` names the call in the message, e.g. `fetch t[0]`.
   */
  take(api: FaultApi, clientId: string | undefined, what: string): TributaryError | undefined {
    const index = this.armed.findIndex(
      (f) => f.api === api && (f.clientId === undefined || f.clientId === clientId),
    )
    if (index < 0) return undefined
    const fault = this.armed[index]!
    if (--fault.left <= 0) this.armed.splice(index, 1)
    return new TributaryError(
      fault.code,
      `Could not ${what}: the broker memory://${this.brokerName} answered ${fault.name} (injected fault)`,
      { canRetry: fault.canRetry },
    )
  }

  /** Throws the injected error for this call, if any. */
  check(api: FaultApi, clientId: string | undefined, what: string): void {
    const error = this.take(api, clientId, what)
    if (error) throw error
  }
}
