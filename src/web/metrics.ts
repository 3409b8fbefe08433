/** Prometheus metrics of one worker, built afresh from each WorkerStats snapshot at scrape time. */
import { Counter, Gauge, Registry } from 'prom-client'
import { TributaryError } from '../errors.js'
import type { WorkerStats } from './types.js'

/** Every metric the ops server derives from WorkerStats, by the name Prometheus sees. */
export const METRIC_NAMES = {
  eventsIn: 'tributary_agent_events_in_total',
  eventsOut: 'tributary_agent_events_out_total',
  agentErrors: 'tributary_agent_errors_total',
  committed: 'tributary_partition_committed_offset',
  position: 'tributary_partition_position',
  endOffset: 'tributary_partition_end_offset',
  lag: 'tributary_partition_lag',
  assigned: 'tributary_assigned_partitions',
  tasks: 'tributary_tasks',
  tableKeys: 'tributary_table_keys',
  changelogWrites: 'tributary_table_changelog_writes_total',
  restored: 'tributary_restore_records_total',
  restoreRemaining: 'tributary_restore_remaining_records',
  restoreRate: 'tributary_restore_records_per_second',
  windowsPending: 'tributary_windows_pending',
  windowsClosed: 'tributary_windows_closed_total',
  lateRecords: 'tributary_window_late_records_total',
  standbyLag: 'tributary_standby_lag_records',
  standbyApplied: 'tributary_standby_records_total',
  timerRuns: 'tributary_timer_runs_total',
  timerErrors: 'tributary_timer_errors_total',
} as const

const AGENT = ['app', 'worker', 'agent'] as const
const PARTITION = ['app', 'worker', 'topic', 'partition'] as const
const TOPIC = ['app', 'worker', 'topic'] as const
const TIMER = ['app', 'worker', 'timer'] as const
const STORE = ['app', 'worker', 'table', 'task'] as const

/**
 * A new registry holding the snapshot's samples and nothing else. Building it per scrape (rather than
 * updating long-lived metrics) makes revoked partitions and removed agents vanish from the next scrape,
 * and keeps concurrent scrapes from mixing two snapshots. The counters are the worker's own running
 * totals, re-exposed: they reset when the worker restarts, which Prometheus' rate() expects.
 */
export function snapshotRegistry(stats: WorkerStats): Registry {
  const registry = new Registry()
  const counter = <T extends string>(name: string, help: string, labelNames: readonly T[]) =>
    new Counter<T>({ name, help, labelNames, registers: [registry] })
  const gauge = <T extends string>(name: string, help: string, labelNames: readonly T[]) =>
    new Gauge<T>({ name, help, labelNames, registers: [registry] })

  const eventsIn = counter(METRIC_NAMES.eventsIn, 'Records received by the agent.', AGENT)
  const eventsOut = counter(METRIC_NAMES.eventsOut, 'Records emitted by the agent.', AGENT)
  const agentErrors = counter(
    METRIC_NAMES.agentErrors,
    'Records whose processing failed, whatever the error policy then did.',
    AGENT,
  )
  const committed = gauge(METRIC_NAMES.committed, "The group's committed next-offset.", PARTITION)
  const position = gauge(METRIC_NAMES.position, 'The next offset this worker will fetch.', PARTITION)
  const endOffset = gauge(METRIC_NAMES.endOffset, 'The log end offset (high watermark or LSO).', PARTITION)
  const lag = gauge(METRIC_NAMES.lag, 'Records not yet committed: end offset minus committed.', PARTITION)
  const assigned = gauge(METRIC_NAMES.assigned, 'Partitions of the topic assigned to this worker.', TOPIC)
  const timerRuns = counter(
    METRIC_NAMES.timerRuns,
    'Completed runs of the timer, failed ones included.',
    TIMER,
  )
  const timerErrors = counter(METRIC_NAMES.timerErrors, 'Runs of the timer that threw.', TIMER)
  const tasks = gauge(METRIC_NAMES.tasks, 'Tasks of this worker by lifecycle state.', [
    'app',
    'worker',
    'state',
  ])

  const tableKeys = gauge(METRIC_NAMES.tableKeys, "Keys in the table's store on this task.", STORE)
  const changelogWrites = counter(
    METRIC_NAMES.changelogWrites,
    "Records this task wrote to the table's changelog.",
    STORE,
  )
  const restored = counter(METRIC_NAMES.restored, 'Changelog records restored into the store.', STORE)
  const windowsPending = gauge(
    METRIC_NAMES.windowsPending,
    'Open windows of the windowed table on this task.',
    STORE,
  )
  const windowsClosed = counter(
    METRIC_NAMES.windowsClosed,
    'Windows closed (final values emitted) by this task since it started.',
    STORE,
  )
  const lateRecords = counter(
    METRIC_NAMES.lateRecords,
    'Records for closed windows (dropped or sent to the late topic) since the task started.',
    STORE,
  )
  const restoreRemaining = gauge(
    METRIC_NAMES.restoreRemaining,
    'Changelog offsets left to restore (0 once restored).',
    STORE,
  )
  const restoreRate = gauge(METRIC_NAMES.restoreRate, 'Records restored per second.', STORE)
  const standbyLag = gauge(
    METRIC_NAMES.standbyLag,
    'Changelog offsets a standby copy is behind: what a failover to it would restore.',
    STORE,
  )
  const standbyApplied = counter(
    METRIC_NAMES.standbyApplied,
    'Changelog records read into a standby copy.',
    STORE,
  )

  const app = stats.appId
  const worker = stats.workerId
  for (const agent of stats.agents) {
    const labels = { app, worker, agent: agent.name }
    eventsIn.inc(labels, count(agent.eventsIn, METRIC_NAMES.eventsIn, agent.name))
    eventsOut.inc(labels, count(agent.eventsOut, METRIC_NAMES.eventsOut, agent.name))
    agentErrors.inc(labels, count(agent.errors, METRIC_NAMES.agentErrors, agent.name))
  }
  for (const p of stats.partitions) {
    const labels = { app, worker, topic: p.topic, partition: String(p.partition) }
    // Unknown stays absent: a 0 would read as "fully caught up" or "starts from the beginning".
    if (p.committed !== null) committed.set(labels, p.committed)
    if (p.position !== null) position.set(labels, p.position)
    if (p.endOffset !== null) endOffset.set(labels, p.endOffset)
    if (p.lag !== null) lag.set(labels, p.lag)
  }
  for (const [topic, partitions] of Object.entries(stats.assignment)) {
    assigned.set({ app, worker, topic }, partitions.length)
  }
  if (stats.tasks) {
    for (const state of ['created', 'restoring', 'running', 'suspended'] as const)
      tasks.set({ app, worker, state }, stats.tasks.filter((t) => t.state === state).length)
  }
  for (const task of stats.tasks ?? []) {
    for (const store of task.stores ?? []) {
      const labels = { app, worker, table: store.table, task: task.id }
      tableKeys.set(labels, store.keys)
      changelogWrites.inc(labels, count(store.changelogWrites, METRIC_NAMES.changelogWrites, store.table))
      if (store.windows) {
        windowsPending.set(labels, store.windows.pending)
        windowsClosed.inc(labels, count(store.windows.closed, METRIC_NAMES.windowsClosed, store.table))
        lateRecords.inc(labels, count(store.windows.late, METRIC_NAMES.lateRecords, store.table))
      }
      if (store.restore === null) continue
      restored.inc(labels, count(store.restore.restored, METRIC_NAMES.restored, store.table))
      restoreRemaining.set(labels, store.restore.remaining)
      restoreRate.set(labels, store.restore.ratePerSecond)
    }
  }
  for (const standby of stats.standbys ?? []) {
    for (const store of standby.stores) {
      const labels = { app, worker, table: store.table, task: standby.id }
      standbyApplied.inc(labels, count(store.applied, METRIC_NAMES.standbyApplied, store.table))
      if (store.lag !== null) standbyLag.set(labels, store.lag)
    }
  }
  for (const timer of stats.timers) {
    const labels = { app, worker, timer: timer.name }
    timerRuns.inc(labels, count(timer.runs, METRIC_NAMES.timerRuns, timer.name))
    timerErrors.inc(labels, count(timer.errors, METRIC_NAMES.timerErrors, timer.name))
  }
  return registry
}

/** A counter value must be a finite total >= 0; anything else is a provider bug, reported as such. */
function count(value: number, metric: string, owner: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value
  throw new TributaryError(
    'INVALID_ARGUMENT',
    `${metric} of ${JSON.stringify(owner)} must be a finite count >= 0, got ${String(value)}`,
  )
}
