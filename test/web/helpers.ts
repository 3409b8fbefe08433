// A fake worker for the ops server tests: its health, stats and failures are set by hand.
import { startOpsServer } from '../../src/web/server.js'
import type { Health, OpsProvider, OpsServer, WorkerStats } from '../../src/web/types.js'

export interface FakeWorker {
  health: Health
  stats: WorkerStats
  /** When set, health() and stats() throw it (stats() rejects, as an async provider would). */
  failure: Error | undefined
  provider: OpsProvider
}

export function fakeWorker(workerId = 'worker-1'): FakeWorker {
  const worker: FakeWorker = {
    health: { status: 'ok' },
    stats: sampleStats(workerId),
    failure: undefined,
    provider: {
      health: () => {
        if (worker.failure) throw worker.failure
        return worker.health
      },
      stats: async () => {
        await Promise.resolve()
        if (worker.failure) throw worker.failure
        return structuredClone(worker.stats)
      },
    },
  }
  return worker
}

/** Two topics, one partition of which has no commit yet, two agents and a timer. */
export function sampleStats(workerId = 'worker-1'): WorkerStats {
  return {
    appId: 'orders-app',
    workerId,
    timestamp: 1_750_000_000_000,
    assignment: { orders: [0, 2], payments: [1] },
    agents: [
      { name: 'count-orders', topics: ['orders'], eventsIn: 1200, eventsOut: 1180, errors: 3 },
      { name: 'audit', topics: ['orders', 'payments'], eventsIn: 40, eventsOut: 0, errors: 0 },
    ],
    partitions: [
      { topic: 'orders', partition: 0, committed: 500, position: 510, endOffset: 600, lag: 100 },
      { topic: 'orders', partition: 2, committed: 70, position: 70, endOffset: 70, lag: 0 },
      { topic: 'payments', partition: 1, committed: null, position: null, endOffset: 40, lag: null },
    ],
    timers: [{ name: 'report', intervalMs: 60_000, runs: 12, errors: 1, lastRunAt: 1_749_999_990_000 }],
    tasks: [
      {
        id: '0_0',
        state: 'restoring',
        since: 1_749_999_999_000,
        partitions: [{ topic: 'orders', partition: 0 }],
        processors: ['count-orders'],
        streamTime: null,
        inFlight: 10,
        stores: [
          {
            table: 'totals',
            changelog: 'orders-app-totals-changelog',
            partition: 0,
            store: 'lmdb://',
            keys: 800,
            changelogWrites: 0,
            restore: {
              from: 100,
              end: 5_100,
              restored: 1_000,
              remaining: 4_000,
              ratePerSecond: 2_000,
              done: false,
            },
          },
          {
            table: 'per-minute',
            changelog: 'orders-app-per-minute-changelog',
            partition: 0,
            store: 'memory://',
            keys: 30,
            changelogWrites: 12,
            windows: { pending: 29, closed: 7, late: 3, streamTime: 1_749_999_990_000 },
            restore: null,
          },
        ],
      },
    ],
  }
}

/** Runs `body` against a server of `provider` on a free loopback port, and closes it whatever happens. */
export async function withServer(
  provider: OpsProvider,
  body: (server: OpsServer) => void | Promise<void>,
  timeoutMs?: number,
): Promise<void> {
  const server = await startOpsServer({ provider, port: 0, timeoutMs })
  try {
    await body(server)
  } finally {
    await server.close()
  }
}
