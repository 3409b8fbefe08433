/** App settings: one defaults object, validated once at construction (STYLE.md). */
import { TributaryError } from '../errors.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock } from '../runtime/clock.js'
import type { LogSink } from '../runtime/log.js'
import { parseStoreUrl } from '../state/stores.js'
import { parseTransportUrl } from '../transport/url.js'
import { keysOf, knownKeys, wholeNumber } from '../validate.js'
import type { ErrorPolicy } from './types.js'

export interface AppSettings {
  /** The app's id: its consumer group, and the prefix of its internal topics. */
  id: string
  /** `memory://` (embedded) or `kafka://host:port[,host:port]`. @default 'memory://' */
  broker?: string
  /** Create declared and internal topics that do not exist. @default true */
  createTopics?: boolean
  /** Partitions of topics the app creates without a count of their own. @default 1 */
  topicPartitions?: number
  /** @default 1 */
  topicReplicationFactor?: number
  /** What agents do with records that fail to decode or process. @default 'fail' */
  errors?: ErrorPolicy
  /**
   * 'exactly_once': each worker commits its outputs, table changelogs and source offsets in one
   * Kafka transaction per commit interval, and reads its internal topics read_committed; a crash
   * then neither loses nor repeats an effect. @default 'at_least_once'
   */
  processingGuarantee?: 'at_least_once' | 'exactly_once'
  /** Commit processed offsets at least this often. @default 1000 (100 under exactly_once) */
  commitIntervalMs?: number
  /** ...and as soon as this many records were processed since the last commit. @default 10000 */
  commitEvery?: number
  /**
   * Records of one partition fetched and not yet taken by its task before that partition's fetching
   * pauses (the others go on: a slow task does not stall the rest). @default 2000
   */
  maxBufferedRecords?: number
  /** A worker that stops heartbeating for this long loses its partitions. @default 10000 */
  sessionTimeoutMs?: number
  /** Where a new group starts reading. @default 'earliest' */
  offsetReset?: 'earliest' | 'latest'
  /** How long a graceful stop waits for agents to finish the records in hand. @default 30000 */
  stopTimeoutMs?: number
  /**
   * This worker's id (client id, and the transactional id under exactly-once). @default a UUID
   * persisted in the worker's slot of `stateDir`, so a restarted worker is the same worker
   */
  workerId?: string
  /** Where workers keep their identity (and their stores). @default `<os tmpdir>/tributary/<id>` */
  stateDir?: string
  /**
   * Where tables keep their state unless a table names its own: `memory://` (restored in full from
   * the changelog at every start) or `lmdb://[directory]` (kept on disk, so a restart restores only
   * the changelog's tail; without a directory, in the worker's slot of `stateDir`). @default 'memory://'
   */
  store?: string
  /**
   * Standby replicas per table task: that many other workers each keep a copy of the task's stores
   * by tailing its changelog partitions, and the group gives the task to the most caught-up copy
   * when its worker goes, so a failover restores only the tail. Needs that many more workers than
   * one to take effect. @default 0
   */
  standbyReplicas?: number
  /** Static group membership (KIP-345): a restart within the session timeout moves no partition. @default none */
  groupInstanceId?: string
  /**
   * A record an agent holds longer than this is reported at half of it, and past it the worker
   * leaves the group so that its partitions move to workers that make progress. @default 300000
   */
  processingTimeoutMs?: number
  /**
   * The URL other workers reach this one's ops server at, advertised to the group: table requests
   * for keys this worker holds are forwarded there. Set it when the server binds a wildcard or sits
   * behind a proxy. @default the ops server's own URL
   */
  advertisedUrl?: string
  /** The ops HTTP server (/health, /stats, /metrics); false for none. @default { port: 6066, host: '127.0.0.1' } */
  web?: { port?: number; host?: string } | false
  /**
   * The app's clock: timers, punctuations, `take()` time limits and commit intervals run on it (the
   * test driver gives a manual one). @default systemClock
   */
  clock?: Clock
  /**
   * Whether the running worker keeps the Node.js process alive. The test driver sets false, so that
   * a test that fails before `driver.close()` still ends. @default true
   */
  keepAlive?: boolean
  /** Receives log lines ('debug' too: task lifecycle). @default warnings and errors to stderr */
  log?: LogSink
}

export type ResolvedSettings = Required<
  Omit<AppSettings, 'log' | 'clock' | 'workerId' | 'groupInstanceId' | 'advertisedUrl'>
> &
  Pick<AppSettings, 'log' | 'clock' | 'workerId' | 'groupInstanceId' | 'advertisedUrl'>

const POLICIES: readonly ErrorPolicy[] = ['fail', 'skip', 'dlq']

const positive = (name: string, value: number, min = 1): number =>
  wholeNumber(`App setting ${name}`, value, min)

/** Every App setting, for the checks and for docs/settings.md's test. */
export const SETTINGS = keysOf<AppSettings>({
  id: true,
  broker: true,
  createTopics: true,
  topicPartitions: true,
  topicReplicationFactor: true,
  errors: true,
  processingGuarantee: true,
  commitIntervalMs: true,
  commitEvery: true,
  maxBufferedRecords: true,
  sessionTimeoutMs: true,
  offsetReset: true,
  stopTimeoutMs: true,
  workerId: true,
  stateDir: true,
  store: true,
  standbyReplicas: true,
  groupInstanceId: true,
  processingTimeoutMs: true,
  web: true,
  advertisedUrl: true,
  clock: true,
  keepAlive: true,
  log: true,
})

function advertised(url: string | undefined): string | undefined {
  if (url === undefined) return undefined
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `App setting advertisedUrl must be an http(s) URL, got "${url}"`,
    )
  return url.replace(/\/+$/, '')
}

export function resolveSettings(settings: AppSettings): ResolvedSettings {
  knownKeys('App setting', settings, SETTINGS)
  if (typeof settings.web === 'object' && settings.web !== null)
    knownKeys('App setting web:', settings.web, ['port', 'host'])
  const id = settings.id
  if (typeof id !== 'string' || !/^[a-zA-Z0-9._-]{1,200}$/.test(id)) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `App id "${String(id)}" is not valid: 1-200 of a-z A-Z 0-9 . _ -`,
    )
  }
  const broker = settings.broker ?? 'memory://'
  parseTransportUrl(broker)
  if (settings.store !== undefined) parseStoreUrl(settings.store, '(the app setting store)')
  const errors = settings.errors ?? 'fail'
  if (!POLICIES.includes(errors)) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `App setting errors must be one of ${POLICIES.join(', ')}, got "${String(errors)}"`,
    )
  }
  const processingGuarantee = settings.processingGuarantee ?? 'at_least_once'
  if (processingGuarantee !== 'at_least_once' && processingGuarantee !== 'exactly_once') {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `App setting processingGuarantee must be at_least_once or exactly_once, got "${String(processingGuarantee)}"`,
    )
  }
  const offsetReset = settings.offsetReset ?? 'earliest'
  if (offsetReset !== 'earliest' && offsetReset !== 'latest') {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `App setting offsetReset must be earliest or latest, got "${String(offsetReset)}"`,
    )
  }
  return {
    id,
    broker,
    createTopics: settings.createTopics ?? true,
    topicPartitions: positive('topicPartitions', settings.topicPartitions ?? 1),
    topicReplicationFactor: positive('topicReplicationFactor', settings.topicReplicationFactor ?? 1),
    errors,
    processingGuarantee,
    commitIntervalMs: positive(
      'commitIntervalMs',
      settings.commitIntervalMs ?? (processingGuarantee === 'exactly_once' ? 100 : 1000),
      10,
    ),
    commitEvery: positive('commitEvery', settings.commitEvery ?? 10_000),
    maxBufferedRecords: positive('maxBufferedRecords', settings.maxBufferedRecords ?? 2_000),
    sessionTimeoutMs: positive('sessionTimeoutMs', settings.sessionTimeoutMs ?? 10_000, 1000),
    offsetReset,
    stopTimeoutMs: positive('stopTimeoutMs', settings.stopTimeoutMs ?? 30_000, 0),
    workerId: settings.workerId,
    stateDir: settings.stateDir ?? join(tmpdir(), 'tributary', id),
    store: settings.store ?? 'memory://',
    standbyReplicas: positive('standbyReplicas', settings.standbyReplicas ?? 0, 0),
    groupInstanceId: settings.groupInstanceId,
    processingTimeoutMs: positive('processingTimeoutMs', settings.processingTimeoutMs ?? 300_000, 1000),
    web: settings.web === false ? false : { port: 6066, host: '127.0.0.1', ...settings.web },
    advertisedUrl: advertised(settings.advertisedUrl),
    keepAlive: settings.keepAlive ?? true,
    log: settings.log,
    clock: settings.clock,
  }
}
