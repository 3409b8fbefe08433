import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, describe, test } from 'node:test'
import { LeaderElector } from '../../../src/runtime/leader/leader.js'
import { openTransport } from '../../../src/transport/index.js'
import type { Transport } from '../../../src/transport/types.js'
import { testBroker } from '../../helpers/broker.js'
import { leadersOf, sleep, uniqueId, waitFor, watchOverlap } from '../helpers.js'

const broker = testBroker()
const SESSION_MS = 6_000
const transports: Transport[] = []
const apps: string[] = []
const children: ChildProcess[] = []

after(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  // Leave the broker as we found it: the apps' leader topics and groups go.
  const transport = openTransport(broker)
  const admin = transport.admin()
  await admin.deleteTopics(apps.map((app) => `${app}-__leader`)).catch(() => undefined)
  // A group can be deleted once empty: a killed member leaves it only at its session timeout.
  for (const app of apps) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const deleted = await admin.deleteGroup(`${app}-leader`).then(
        () => true,
        (error: { code?: string }) => error.code === 'UNKNOWN_GROUP',
      )
      if (deleted) break
      await sleep(500)
    }
  }
  await transport.close()
  await Promise.all(transports.map((t) => t.close()))
})

function newApp(): string {
  const app = uniqueId('test-leader')
  apps.push(app)
  return app
}

interface WorkerEvent {
  worker: string
  at: number
  event: 'started' | 'leader' | 'tick' | 'error' | 'stopped'
  leader?: boolean
  epoch?: number
  message?: string
}

/** A worker in its own process (fixtures/leader-worker.ts); its JSON events land in `events`. */
function spawnWorker(appId: string, workerId: string, events: WorkerEvent[]): ChildProcess {
  const script = fileURLToPath(new URL('../fixtures/leader-worker.ts', import.meta.url))
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, broker, appId, workerId, String(SESSION_MS)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  children.push(child)
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as WorkerEvent)
    } catch {
      // not an event line
    }
  })
  return child
}

const of = (events: WorkerEvent[], worker: string, kind: WorkerEvent['event'], since = 0): WorkerEvent[] =>
  events.filter((e) => e.worker === worker && e.event === kind && e.at >= since)

/**
 * Waits until both workers joined and the group settled (on kafka:// the second to join may take
 * partition 0 over from the first, a clean handover), then names the worker running the leader timer.
 */
async function settledLeader(
  events: WorkerEvent[],
  ids: string[],
): Promise<{ leaderId: string; since: number }> {
  await waitFor(
    'both workers to start',
    () => ids.every((id) => of(events, id, 'started').length > 0),
    30_000,
  )
  const since = Math.max(...ids.map((id) => of(events, id, 'started')[0]!.at)) + 500
  const settled = (e: WorkerEvent): boolean => e.event === 'tick' && e.at >= since
  await waitFor('the leader to tick once the group settled', () => events.some(settled), 15_000)
  return { leaderId: events.find(settled)!.worker, since }
}

describe(`LeaderElector on kafka:// (real Apache Kafka at ${broker.replace('kafka://', '')})`, () => {
  test('two workers of one app elect exactly one leader, and the other takes over when it stops', async () => {
    const appId = newApp()
    const electors = ['a', 'b'].map((id) => {
      const transport = openTransport(broker)
      transports.push(transport)
      return new LeaderElector({ transport, appId, workerId: `${appId}-${id}`, sessionTimeoutMs: SESSION_MS })
    })
    await Promise.all(electors.map((e) => e.start()))
    await waitFor('a leader', () => leadersOf(electors).length === 1)
    const watch = watchOverlap(electors)
    await sleep(1_000)
    const [leader] = leadersOf(electors)
    const survivor = electors.find((e) => e !== leader)!
    assert.equal(leadersOf(electors).length, 1)
    assert.equal(await leader!.confirm(), true)
    assert.equal(await survivor.confirm(), false)
    const firstEpoch = leader!.epoch()!
    const stoppedAt = Date.now()
    await leader!.stop()
    await waitFor('the survivor to lead', () => survivor.isLeader(), SESSION_MS)
    const tookMs = Date.now() - stoppedAt
    assert.ok(
      tookMs < SESSION_MS,
      `a clean stop hands over without waiting for the session timeout (${tookMs} ms)`,
    )
    assert.ok(survivor.epoch()! > firstEpoch)
    assert.equal(watch.stop(), 0)
    await survivor.stop()
  })

  test('a leader timer runs on exactly one of two workers, and on the survivor after the leader is killed', async () => {
    const appId = newApp()
    const events: WorkerEvent[] = []
    const ids = [`${appId}-a`, `${appId}-b`]
    const procs = new Map(ids.map((id) => [id, spawnWorker(appId, id, events)]))
    const { leaderId, since } = await settledLeader(events, ids)
    const survivorId = ids.find((id) => id !== leaderId)!
    await sleep(1_500)
    assert.ok(of(events, leaderId, 'tick', since).length >= 10)
    assert.deepEqual(of(events, survivorId, 'tick', since), [], 'only the leader runs the leader timer')

    const killedAt = Date.now()
    procs.get(leaderId)!.kill('SIGKILL')
    await waitFor(
      'the survivor to tick',
      () => of(events, survivorId, 'tick', killedAt).length >= 5,
      SESSION_MS + 15_000,
    )
    const firstTick = of(events, survivorId, 'tick', killedAt)[0]!
    const tookMs = firstTick.at - killedAt
    assert.ok(tookMs >= SESSION_MS - 1_000, `the group waited for the session timeout (${tookMs} ms)`)
    assert.ok(firstTick.epoch! > of(events, leaderId, 'tick').at(-1)!.epoch!)
    assert.deepEqual(of(events, leaderId, 'tick', killedAt + 50), [], 'the killed worker ticks no more')
    assert.deepEqual(
      events.filter((e) => e.event === 'error'),
      [],
    )
    procs.get(survivorId)!.kill('SIGTERM')
    await waitFor('the survivor to stop', () => of(events, survivorId, 'stopped').length > 0, 15_000)
  })

  test('a paused leader that resumes after its session timed out does not run its leader timer', async () => {
    const appId = newApp()
    const events: WorkerEvent[] = []
    const ids = [`${appId}-a`, `${appId}-b`]
    const procs = new Map(ids.map((id) => [id, spawnWorker(appId, id, events)]))
    const { leaderId: pausedId } = await settledLeader(events, ids)
    const survivorId = ids.find((id) => id !== pausedId)!
    const pausedAt = Date.now()
    procs.get(pausedId)!.kill('SIGSTOP')
    await waitFor(
      'the survivor to tick',
      () => of(events, survivorId, 'tick', pausedAt).length > 0,
      SESSION_MS + 15_000,
    )
    const takeover = of(events, survivorId, 'tick', pausedAt)[0]!
    assert.ok(takeover.at - pausedAt >= SESSION_MS - 1_000, 'the group waited for the session timeout')
    const resumedAt = Date.now()
    procs.get(pausedId)!.kill('SIGCONT')
    await sleep(3_000)
    // The resumed worker's lease ran out while it was paused: it must not tick as a leader of the
    // old epoch. It may lead again later, but only under a new, higher epoch.
    const [firstChange] = of(events, pausedId, 'leader', resumedAt)
    assert.equal(firstChange?.leader, false, 'on resume it first tells that it no longer leads')
    const late = of(events, pausedId, 'tick', resumedAt)
    for (const tick of late) assert.ok(tick.epoch! > takeover.epoch!, `stale tick ${JSON.stringify(tick)}`)
    for (const id of ids) procs.get(id)!.kill('SIGTERM')
    await waitFor('both to stop', () => ids.every((id) => of(events, id, 'stopped').length > 0), 15_000)
    assert.deepEqual(
      events.filter((e) => e.event === 'error'),
      [],
    )
  })
})
