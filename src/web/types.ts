/** The contract between a worker and its ops HTTP server: what the worker reports, and the server's options. */

/** A worker's lifecycle as the ops server reports it; only `ok` answers 200 on /health. */
export type HealthStatus = 'ok' | 'starting' | 'stopping' | 'failed'

export interface Health {
  status: HealthStatus
  /** Why the worker is not `ok` (e.g. "waiting for group join", "recovering orders-changelog[3]"). */
  reason?: string
}

/** One agent's counters since this worker started; they restart from zero with the process. */
export interface AgentStats {
  /** The agent's name, unique within the app: the `agent` label of its metrics. */
  name: string
  /** The topics it consumes, sorted. */
  topics: string[]
  /** Records the agent received. */
  eventsIn: number
  /** Records the agent emitted: sent to a topic, a table or a sink. */
  eventsOut: number
  /** Records whose processing failed, whatever the error policy then did (fail, skip, dead-letter). */
  errors: number
}

/**
 * Offsets of one partition assigned to this worker. All offsets are next-offsets, as Kafka commits them:
 * `committed` = 42 means records up to 41 are done. `null` means not known (yet), never zero.
 */
export interface PartitionStats {
  topic: string
  partition: number
  /** The group's committed offset: where a worker taking this partition over would start. */
  committed: number | null
  /** The next offset this worker will fetch; at or after `committed` (records in flight lie between). */
  position: number | null
  /** The log end offset: the high watermark, or the last stable offset when reading read_committed. */
  endOffset: number | null
  /**
   * `endOffset - committed`: records not yet processed and committed, the consumer-group lag that
   * `kafka-consumer-groups --describe` and lag-based autoscalers report. `null` when either is unknown.
   */
  lag: number | null
}

/** A periodic task of the app (an `app.timer`), counted since this worker started. */
export interface TimerStats {
  /** The timer's name, unique within the app: the `timer` label of its metrics. */
  name: string
  /** Its period. */
  intervalMs: number
  /** Completed runs, failed ones included. */
  runs: number
  /** Runs that threw. */
  errors: number
  /** When the last run started, in ms since the epoch; `null` before the first run. */
  lastRunAt: number | null
}

/** One task of this worker: a sub-topology on one partition (see the runtime's task lifecycle). */
export interface TaskStats {
  /** `<subtopology>_<partition>` */
  id: string
  state: 'created' | 'restoring' | 'running' | 'suspended' | 'closed'
  /** Since when it is in that state, ms since the epoch (by the app's clock). */
  since: number
  /** Its source partitions. */
  partitions: Array<{ topic: string; partition: number }>
  /** The processors (agents, forwarders, processors) it runs. */
  processors: string[]
  /** The highest record timestamp it has taken; `null` before the first record. */
  streamTime: number | null
  /** Records fetched and not yet done. */
  inFlight: number
  /** The stores of the tables it holds (none for a stateless task). */
  stores?: StoreStats[]
}

/** One table's store on one task. */
export interface StoreStats {
  table: string
  /** The changelog topic; its partition is the task's. */
  changelog: string
  partition: number
  /** `memory://` or `lmdb://...` */
  store: string
  keys: number
  /** Changelog records this task wrote (the latest value per key written at each commit). */
  changelogWrites: number
  /** The restore of this store: null before it began. */
  restore: RestoreStats | null
  /** A windowed table's windows on this task. */
  windows?: WindowStoreStats
}

/** A windowed table's windows on one task. */
export interface WindowStoreStats {
  /** Windows open now. */
  pending: number
  /** Windows closed (final values emitted) since the task started. */
  closed: number
  /** Records that came for closed windows (dropped or sent to the late topic) since the task started. */
  late: number
  /** The highest record time the table has seen on this task (ms); -1 before the first. */
  streamTime: number
}

export interface RestoreStats {
  /** The changelog offsets restored from and to. */
  from: number
  end: number
  restored: number
  /** Offsets left to read (approximate: compaction leaves gaps). */
  remaining: number
  /** Records restored per second so far. */
  ratePerSecond: number
  done: boolean
}

/** A standby copy this worker keeps of another worker's task: its stores, tailing their changelogs. */
export interface StandbyStats {
  /** The task's id, `<subtopology>_<partition>`. */
  id: string
  stores: StandbyStoreStats[]
}

export interface StandbyStoreStats {
  table: string
  changelog: string
  partition: number
  /** `memory://` or `lmdb://...` */
  store: string
  /** The next changelog offset the copy reads. */
  position: number
  /** The changelog's end at the latest fetch (the last stable offset under exactly-once); `null` before one. */
  endOffset: number | null
  /** `endOffset - position`: what a failover to this copy would restore. `null` when not known. */
  lag: number | null
  /** Changelog records read into the copy since it started. */
  applied: number
}

/** A point-in-time snapshot of one worker, served as-is on /stats and turned into metrics on /metrics. */
export interface WorkerStats {
  /** The application id: the consumer group id and the prefix of internal topics. */
  appId: string
  /** This worker's id, unique within the app's group. */
  workerId: string
  /** When the snapshot was taken, in ms since the epoch. */
  timestamp: number
  /** Source partitions assigned to this worker: topic -> partition numbers, ascending. Empty when none. */
  assignment: Record<string, number[]>
  agents: AgentStats[]
  /** One entry per partition listed in `assignment`. */
  partitions: PartitionStats[]
  /** The tasks this worker runs, by id. Absent from providers that know no tasks. */
  tasks?: TaskStats[]
  /** The standby copies this worker keeps (`standbyReplicas`), by id. Absent when none are known. */
  standbys?: StandbyStats[]
  timers: TimerStats[]
}

/** What the ops server reads from a worker; called on every request, so both should be cheap. */
export interface OpsProvider {
  /** Liveness/readiness: 'ok' when the worker runs and has joined its group; otherwise why not. */
  health(): Health
  /** A consistent snapshot of the worker (see WorkerStats). */
  stats(): WorkerStats | Promise<WorkerStats>
  /** Interactive queries of the app's tables (/tables routes); absent: the routes answer 404. */
  tables?: TableQueries
}

/** An answer of a table route: a status, a JSON body, and for 503 how soon to ask again. */
export interface TableAnswer {
  status: number
  body: unknown
  retryAfterSeconds?: number
}

/**
 * The table routes: `GET /tables` (each table, its partitions and their owners), `GET
 * /tables/<name>?limit=&after=` (this worker's entries, in pages) and `GET /tables/<name>/<key>`,
 * answered by the key's owner: any other worker forwards the request there.
 */
export interface TableQueries {
  list(): TableAnswer | Promise<TableAnswer>
  entries(
    table: string,
    page: { limit: number; after: string | undefined },
  ): TableAnswer | Promise<TableAnswer>
  /** `forwarded`: the request came from another worker (it is answered here, never forwarded again). */
  get(table: string, key: string, forwarded: boolean): Promise<TableAnswer>
}

export interface OpsServerOptions {
  provider: OpsProvider
  /** TCP port; 0 picks any free port (tests). @default 6066 */
  port?: number
  /** Interface to bind; loopback unless the operator opts in to exposing it. @default '127.0.0.1' */
  host?: string
  /** How long a request waits for the provider before answering 500 (code TIMEOUT). @default 5000 */
  timeoutMs?: number
}

export interface OpsServer {
  /** The base URL actually bound, e.g. `http://127.0.0.1:6066`. */
  readonly url: string
  /** Stops listening and drops open connections; safe to call twice. */
  close(): Promise<void>
}
