/** The worker as the ops server sees it: health, and a stats snapshot with lag from the broker. */
import type { Admin } from '../transport/types.js'
import type {
  AgentStats,
  Health,
  OpsProvider,
  PartitionStats,
  StandbyStats,
  StoreStats,
  TaskStats,
  TimerStats,
  WorkerStats,
} from '../web/types.js'
import type { StoreStats as TaskStoreStats } from './task/state-manager.js'
import type { Worker } from './worker.js'

function storeStats(s: TaskStoreStats, now: number): StoreStats {
  const r = s.restore
  const took = r ? Math.max(1, (r.finishedAt ?? now) - r.startedAt) : 1
  return {
    table: s.name,
    changelog: s.changelog,
    partition: s.partition,
    store: s.url,
    keys: s.keys,
    changelogWrites: s.changelogWrites,
    ...(s.windows ? { windows: { ...s.windows } } : {}),
    restore: r
      ? {
          from: r.from,
          end: r.end,
          restored: r.restored,
          remaining: r.finishedAt !== undefined ? 0 : Math.max(0, r.end - r.from - r.restored),
          ratePerSecond: Math.round((r.restored * 1000) / took),
          done: r.finishedAt !== undefined,
        }
      : null,
  }
}

export function workerOps(worker: Worker, admin: Admin, timers: () => TimerStats[] = () => []): OpsProvider {
  return {
    health(): Health {
      const state = worker.state
      if (state === 'running') return { status: 'ok' }
      if (state === 'new' || state === 'starting') return { status: 'starting' }
      if (state === 'failed')
        return { status: 'failed', reason: 'the worker stopped on an error (see its log)' }
      return { status: 'stopping' }
    },
    async stats(): Promise<WorkerStats> {
      const assignment: Record<string, number[]> = {}
      for (const { topic, partition } of worker.assignment()) (assignment[topic] ??= []).push(partition)
      for (const list of Object.values(assignment)) list.sort((a, b) => a - b)
      const committed = new Map(worker.committedOffsets().map((c) => [`${c.topic}:${c.partition}`, c.offset]))
      const ends = new Map<string, number>()
      for (const topic of Object.keys(assignment)) {
        for (const o of await admin.listOffsets(topic, 'latest').catch(() => []))
          ends.set(`${o.topic}:${o.partition}`, o.offset)
      }
      const partitions: PartitionStats[] = worker.positions().map(({ topic, partition, position }) => {
        const key = `${topic}:${partition}`
        const done = committed.get(key) ?? null
        const endOffset = ends.get(key) ?? null
        return {
          topic,
          partition,
          committed: done,
          position: position ?? null,
          endOffset,
          lag: done !== null && endOffset !== null ? Math.max(0, endOffset - done) : null,
        }
      })
      const agents: AgentStats[] = worker.config.processors.map((p) => {
        const counts = worker.counts.get(p.name) ?? { in: 0, out: 0, errors: 0 }
        return {
          name: p.name,
          topics: [p.topic],
          eventsIn: counts.in,
          eventsOut: counts.out,
          errors: counts.errors,
        }
      })
      const now = worker.config.clock.now()
      const tasks: TaskStats[] = worker.tasks().map((t) => ({
        id: t.id,
        state: t.state,
        since: t.since,
        partitions: [...t.partitions],
        processors: t.runners.map((r) => r.spec.name),
        streamTime: t.streamTime() < 0 ? null : t.streamTime(),
        inFlight: t.inFlight(),
        ...(t.stateManager.stateful ? { stores: t.stateManager.stats().map((s) => storeStats(s, now)) } : {}),
      }))
      tasks.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      const standbys: StandbyStats[] = worker.standbys().map((s) => ({
        id: s.id,
        stores: s.stats().map((store) => ({
          table: store.name,
          changelog: store.changelog,
          partition: store.partition,
          store: store.url,
          position: store.position,
          endOffset: store.endOffset,
          lag: store.endOffset === null ? null : Math.max(0, store.endOffset - store.position),
          applied: store.applied,
        })),
      }))
      return {
        appId: worker.config.appId,
        workerId: worker.workerId,
        tasks,
        ...(standbys.length > 0 ? { standbys } : {}),
        timestamp: Date.now(),
        assignment,
        agents,
        partitions,
        timers: timers(),
      }
    },
  }
}
