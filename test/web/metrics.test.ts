import assert from 'node:assert/strict'
import { test } from 'node:test'
import { METRIC_NAMES } from '../../src/web/metrics.js'
import type { OpsServer } from '../../src/web/types.js'
import { fakeWorker, withServer } from './helpers.js'
import { parsePrometheusText, valueOf, type Family } from './prometheus.js'

async function scrape(server: OpsServer): Promise<Map<string, Family>> {
  const response = await fetch(`${server.url}/metrics`)
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  return parsePrometheusText(await response.text())
}

const W = { app: 'orders-app', worker: 'worker-1' }

test('/metrics is strict Prometheus text, with HELP and TYPE for every tributary family', async () => {
  await withServer(fakeWorker().provider, async (server) => {
    const families = await scrape(server)
    const types = new Map([...families.values()].map((f) => [f.name, f.type]))
    for (const name of Object.values(METRIC_NAMES)) {
      assert.equal(types.get(name), name.endsWith('_total') ? 'counter' : 'gauge', name)
      assert.ok(families.get(name)!.help.length > 0, name)
    }
  })
})

test('agent, partition, assignment and timer metrics carry the values of the snapshot', async () => {
  await withServer(fakeWorker().provider, async (server) => {
    const m = await scrape(server)
    const agent = { ...W, agent: 'count-orders' }
    assert.equal(valueOf(m, METRIC_NAMES.eventsIn, agent), 1200)
    assert.equal(valueOf(m, METRIC_NAMES.eventsOut, agent), 1180)
    assert.equal(valueOf(m, METRIC_NAMES.agentErrors, agent), 3)
    assert.equal(valueOf(m, METRIC_NAMES.eventsOut, { ...W, agent: 'audit' }), 0)
    const orders0 = { ...W, topic: 'orders', partition: '0' }
    assert.equal(valueOf(m, METRIC_NAMES.committed, orders0), 500)
    assert.equal(valueOf(m, METRIC_NAMES.position, orders0), 510)
    assert.equal(valueOf(m, METRIC_NAMES.endOffset, orders0), 600)
    assert.equal(valueOf(m, METRIC_NAMES.lag, orders0), 100)
    assert.equal(valueOf(m, METRIC_NAMES.lag, { ...W, topic: 'orders', partition: '2' }), 0)
    assert.equal(valueOf(m, METRIC_NAMES.assigned, { ...W, topic: 'orders' }), 2)
    assert.equal(valueOf(m, METRIC_NAMES.assigned, { ...W, topic: 'payments' }), 1)
    assert.equal(valueOf(m, METRIC_NAMES.timerRuns, { ...W, timer: 'report' }), 12)
    assert.equal(valueOf(m, METRIC_NAMES.timerErrors, { ...W, timer: 'report' }), 1)
  })
})

test('a table store on a task shows its keys, changelog writes and restore progress', async () => {
  await withServer(fakeWorker().provider, async (server) => {
    const m = await scrape(server)
    const store = { ...W, table: 'totals', task: '0_0' }
    assert.equal(valueOf(m, METRIC_NAMES.tableKeys, store), 800)
    assert.equal(valueOf(m, METRIC_NAMES.changelogWrites, store), 0)
    assert.equal(valueOf(m, METRIC_NAMES.restored, store), 1_000)
    assert.equal(valueOf(m, METRIC_NAMES.restoreRemaining, store), 4_000)
    assert.equal(valueOf(m, METRIC_NAMES.restoreRate, store), 2_000)
    assert.equal(valueOf(m, METRIC_NAMES.tasks, { ...W, state: 'restoring' }), 1)
  })
})

test("a windowed table's store shows its pending and closed windows and its late records", async () => {
  await withServer(fakeWorker().provider, async (server) => {
    const m = await scrape(server)
    const store = { ...W, table: 'per-minute', task: '0_0' }
    assert.equal(valueOf(m, METRIC_NAMES.windowsPending, store), 29)
    assert.equal(valueOf(m, METRIC_NAMES.windowsClosed, store), 7)
    assert.equal(valueOf(m, METRIC_NAMES.lateRecords, store), 3)
    assert.equal(valueOf(m, METRIC_NAMES.windowsPending, { ...W, table: 'totals', task: '0_0' }), undefined)
  })
})

test('an unknown committed offset or lag is left out rather than reported as zero', async () => {
  await withServer(fakeWorker().provider, async (server) => {
    const m = await scrape(server)
    const payments1 = { ...W, topic: 'payments', partition: '1' }
    assert.equal(valueOf(m, METRIC_NAMES.committed, payments1), undefined)
    assert.equal(valueOf(m, METRIC_NAMES.position, payments1), undefined)
    assert.equal(valueOf(m, METRIC_NAMES.lag, payments1), undefined)
    assert.equal(valueOf(m, METRIC_NAMES.endOffset, payments1), 40)
  })
})

test('label values with quotes, backslashes and newlines are escaped and read back intact', async () => {
  const worker = fakeWorker()
  const name = 'odd "agent" \\ with\na newline'
  worker.stats.agents[0]!.name = name
  await withServer(worker.provider, async (server) => {
    const response = await fetch(`${server.url}/metrics`)
    const text = await response.text()
    assert.ok(text.includes('agent="odd \\"agent\\" \\\\ with\\na newline"'))
    assert.equal(valueOf(parsePrometheusText(text), METRIC_NAMES.eventsIn, { agent: name }), 1200)
  })
})

test('process metrics of collectDefaultMetrics are served beside the worker metrics', async () => {
  await withServer(fakeWorker().provider, async (server) => {
    const m = await scrape(server)
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_start_time_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.ok(m.get(name)!.samples.length > 0, name)
    }
  })
})

test('a new assignment shows on the next scrape, and revoked partitions and removed agents disappear', async () => {
  const worker = fakeWorker()
  await withServer(worker.provider, async (server) => {
    assert.equal(valueOf(await scrape(server), METRIC_NAMES.lag, { topic: 'orders', partition: '2' }), 0)
    worker.stats.assignment = { orders: [0, 5] }
    worker.stats.partitions = [
      { topic: 'orders', partition: 0, committed: 550, position: 560, endOffset: 650, lag: 100 },
      { topic: 'orders', partition: 5, committed: 9, position: 9, endOffset: 19, lag: 10 },
    ]
    worker.stats.agents = worker.stats.agents.slice(0, 1)
    const m = await scrape(server)
    const partitions = (name: string) =>
      m.get(name)!.samples.map((s) => `${s.labels.topic}[${s.labels.partition}]`)
    for (const name of [
      METRIC_NAMES.committed,
      METRIC_NAMES.position,
      METRIC_NAMES.endOffset,
      METRIC_NAMES.lag,
    ]) {
      assert.deepEqual(partitions(name), ['orders[0]', 'orders[5]'], name)
    }
    assert.equal(valueOf(m, METRIC_NAMES.committed, { topic: 'orders', partition: '0' }), 550)
    assert.deepEqual(m.get(METRIC_NAMES.assigned)!.samples, [
      { name: METRIC_NAMES.assigned, labels: { ...W, topic: 'orders' }, value: 2 },
    ])
    assert.deepEqual(
      m.get(METRIC_NAMES.eventsIn)!.samples.map((s) => s.labels.agent),
      ['count-orders'],
    )
  })
})

test('two servers in one process keep their worker metrics apart and both serve process metrics', async () => {
  await withServer(fakeWorker('worker-1').provider, async (one) => {
    await withServer(fakeWorker('worker-2').provider, async (two) => {
      for (const [server, worker] of [
        [one, 'worker-1'],
        [two, 'worker-2'],
      ] as const) {
        const m = await scrape(server)
        const workers = new Set(m.get(METRIC_NAMES.eventsIn)!.samples.map((s) => s.labels.worker))
        assert.deepEqual([...workers], [worker])
        assert.ok(m.get('process_cpu_user_seconds_total')!.samples.length > 0)
      }
    })
  })
})

test('a counter that is not a finite count gets a 500 naming the metric, and the next scrape works', async () => {
  const worker = fakeWorker()
  await withServer(worker.provider, async (server) => {
    worker.stats.agents[0]!.eventsIn = -1
    const response = await fetch(`${server.url}/metrics`)
    assert.equal(response.status, 500)
    const body = (await response.json()) as { error: string; code: string }
    assert.equal(body.code, 'INVALID_ARGUMENT')
    assert.match(body.error, /tributary_agent_events_in_total of "count-orders"/)
    worker.stats.agents[0]!.eventsIn = Number.NaN
    assert.equal((await fetch(`${server.url}/metrics`)).status, 500)
    worker.stats.agents[0]!.eventsIn = 7
    assert.equal(valueOf(await scrape(server), METRIC_NAMES.eventsIn, { agent: 'count-orders' }), 7)
  })
})
