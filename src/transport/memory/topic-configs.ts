/**
 * Kafka 4.1's topic configs: every name a topic accepts, its default and its validation, so that
 * `memory://` refuses the same typos and values that a real broker refuses.
 */
import { TributaryError } from '../../errors.js'

type Kind = 'LONG' | 'INT' | 'DOUBLE' | 'BOOLEAN' | 'STRING' | 'LIST'

interface ConfigDef {
  kind: Kind
  default: string
  min?: number
  max?: number
  /** Allowed values (each list element for LIST). */
  values?: readonly string[]
  /** Extra check; returns the reason a value is refused. */
  check?: (value: string) => string | undefined
}

const LONG_MAX = '9223372036854775807'
const throttled = (v: string): string | undefined =>
  /^(\*|(\s*\d+\s*:\s*\d+\s*)(,\s*\d+\s*:\s*\d+\s*)*)?$/.test(v)
    ? undefined
    : 'must be * or partitionId:brokerId pairs'

/** The topic configs of Kafka 4.1 (as `kafka-configs --describe --all` lists them), by name. */
export const TOPIC_CONFIGS: Readonly<Record<string, ConfigDef>> = {
  'cleanup.policy': { kind: 'LIST', default: 'delete', values: ['compact', 'delete'] },
  'compression.gzip.level': {
    kind: 'INT',
    default: '-1',
    check: (v) => (v === '-1' || (+v >= 1 && +v <= 9) ? undefined : 'must be -1 or in [1, 9]'),
  },
  'compression.lz4.level': { kind: 'INT', default: '9', min: 1, max: 17 },
  'compression.type': {
    kind: 'STRING',
    default: 'producer',
    values: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'],
  },
  'compression.zstd.level': { kind: 'INT', default: '3', min: -131072, max: 22 },
  'delete.retention.ms': { kind: 'LONG', default: '86400000', min: 0 },
  'file.delete.delay.ms': { kind: 'LONG', default: '60000', min: 0 },
  'flush.messages': { kind: 'LONG', default: LONG_MAX, min: 1 },
  'flush.ms': { kind: 'LONG', default: LONG_MAX, min: 0 },
  'follower.replication.throttled.replicas': { kind: 'LIST', default: '', check: throttled },
  'index.interval.bytes': { kind: 'INT', default: '4096', min: 0 },
  'leader.replication.throttled.replicas': { kind: 'LIST', default: '', check: throttled },
  'local.retention.bytes': { kind: 'LONG', default: '-2', min: -2 },
  'local.retention.ms': { kind: 'LONG', default: '-2', min: -2 },
  'max.compaction.lag.ms': { kind: 'LONG', default: LONG_MAX, min: 1 },
  'max.message.bytes': { kind: 'INT', default: '1048588', min: 0 },
  'message.timestamp.after.max.ms': { kind: 'LONG', default: '3600000', min: 0 },
  'message.timestamp.before.max.ms': { kind: 'LONG', default: LONG_MAX, min: 0 },
  'message.timestamp.type': {
    kind: 'STRING',
    default: 'CreateTime',
    values: ['CreateTime', 'LogAppendTime'],
  },
  'min.cleanable.dirty.ratio': { kind: 'DOUBLE', default: '0.5', min: 0, max: 1 },
  'min.compaction.lag.ms': { kind: 'LONG', default: '0', min: 0 },
  'min.insync.replicas': { kind: 'INT', default: '1', min: 1 },
  preallocate: { kind: 'BOOLEAN', default: 'false' },
  'remote.log.copy.disable': { kind: 'BOOLEAN', default: 'false' },
  'remote.log.delete.on.disable': { kind: 'BOOLEAN', default: 'false' },
  'remote.storage.enable': {
    kind: 'BOOLEAN',
    default: 'false',
    check: (v) => (v === 'true' ? 'tiered storage is not enabled on this broker' : undefined),
  },
  'retention.bytes': { kind: 'LONG', default: '-1' },
  'retention.ms': { kind: 'LONG', default: '604800000', min: -1 },
  'segment.bytes': { kind: 'INT', default: '1073741824', min: 1048576 },
  'segment.index.bytes': { kind: 'INT', default: '10485760', min: 4 },
  'segment.jitter.ms': { kind: 'LONG', default: '0', min: 0 },
  'segment.ms': { kind: 'LONG', default: '604800000', min: 1 },
  'unclean.leader.election.enable': { kind: 'BOOLEAN', default: 'false' },
}

export const CONFIG_NAMES: readonly string[] = Object.keys(TOPIC_CONFIGS).sort()

function reason(def: ConfigDef, value: string): string | undefined {
  const text = value.trim()
  if (def.kind === 'LONG' || def.kind === 'INT') {
    if (!/^[+-]?\d+$/.test(text)) return `Not a number of type ${def.kind}`
    const n = BigInt(text)
    const bits = def.kind === 'INT' ? 31n : 63n
    if (n < -(1n << bits) || n >= 1n << bits) return `Not a number of type ${def.kind}`
  } else if (def.kind === 'DOUBLE') {
    if (text === '' || !Number.isFinite(Number(text))) return 'Not a number of type DOUBLE'
  } else if (def.kind === 'BOOLEAN') {
    if (!/^(true|false)$/i.test(text)) return 'Expected value to be either true or false'
  }
  const n = Number(text)
  if (def.min !== undefined && n < def.min) return `Value must be at least ${def.min}`
  if (def.max !== undefined && n > def.max) return `Value must be no more than ${def.max}`
  if (def.values) {
    const items = def.kind === 'LIST' ? text.split(',').map((s) => s.trim()) : [text]
    const bad = items.find((item) => !def.values!.includes(item))
    if (bad !== undefined) return `String must be one of: ${def.values.join(', ')}`
  }
  return def.check?.(text)
}

/** Throws INVALID_CONFIG (naming topic, config and value) unless Kafka would accept this config. */
export function validateTopicConfig(topic: string, name: string, value: unknown): void {
  const def = TOPIC_CONFIGS[name]
  if (!def)
    throw new TributaryError('INVALID_CONFIG', `Unknown topic config name: ${name} (topic ${topic})`, {
      topic,
    })
  const why = typeof value === 'string' ? reason(def, value) : 'the value must be a string'
  if (why !== undefined) {
    throw new TributaryError(
      'INVALID_CONFIG',
      `Invalid value ${String(value)} for configuration ${name} of topic ${topic}: ${why}`,
      { topic },
    )
  }
}

/** The configs the broker acts on, parsed once whenever a topic's configs change. */
export interface EffectiveConfig {
  deletePolicy: boolean
  compactPolicy: boolean
  retentionMs: number
  retentionBytes: number
  logAppendTime: boolean
  maxMessageBytes: number
  deleteRetentionMs: number
  minCompactionLagMs: number
  minCleanableDirtyRatio: number
  timestampAfterMaxMs: number
  timestampBeforeMaxMs: number
  segmentMs: number
  segmentBytes: number
}

export function effectiveConfig(set: ReadonlyMap<string, string>): EffectiveConfig {
  const get = (name: string): string => (set.get(name) ?? TOPIC_CONFIGS[name]!.default).trim()
  const num = (name: string): number => Number(get(name))
  const policy = get('cleanup.policy')
    .split(',')
    .map((s) => s.trim())
  return {
    deletePolicy: policy.includes('delete'),
    compactPolicy: policy.includes('compact'),
    retentionMs: num('retention.ms'),
    retentionBytes: num('retention.bytes'),
    logAppendTime: get('message.timestamp.type') === 'LogAppendTime',
    maxMessageBytes: num('max.message.bytes'),
    deleteRetentionMs: num('delete.retention.ms'),
    minCompactionLagMs: num('min.compaction.lag.ms'),
    minCleanableDirtyRatio: num('min.cleanable.dirty.ratio'),
    timestampAfterMaxMs: num('message.timestamp.after.max.ms'),
    timestampBeforeMaxMs: num('message.timestamp.before.max.ms'),
    segmentMs: num('segment.ms'),
    segmentBytes: num('segment.bytes'),
  }
}
