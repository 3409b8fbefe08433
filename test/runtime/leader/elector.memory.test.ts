import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { LeaderElector, type LeadershipChange } from '../../../src/runtime/leader/leader.js'
import { Timers } from '../../../src/runtime/timers/timers.js'
import { injectFault, openTransport } from '../../../src/transport/index.js'
import { getMemoryBroker } from '../../../src/transport/memory/broker.js'
import type { Transport } from '../../../src/transport/types.js'
import { leadersOf, sleep, uniqueId, waitFor, watchOverlap } from '../helpers.js'

const transports: Transport[] = []
after(() => Promise.all(transports.map((t) => t.close())))

/** `count` workers of one app, each with its own transport on one embedded broker. */
function workers(
  count: number,
  sessionTimeoutMs = 1_000,
  url = `memory://${uniqueId('leader')}`,
): LeaderElector[] {
  const appId = uniqueId('app')
  return Array.from({ length: count }, (_, i) => {
    const transport = openTransport(url)
    transports.push(transport)
    return new LeaderElector({ transport, appId, sessionTimeoutMs, workerId: `worker-${i}` })
  })
}

/**
 * Freezes a worker as a stopped process would be: no poll, no renewal, and (the group's liveness being
 * heartbeats, as in Kafka) no heartbeat either, so the group evicts it after the session timeout.
 */
async function freeze(url: string, elector: LeaderElector): Promise<void> {
  injectFault(url, {
    api: 'heartbeat',
    code: 'REQUEST_TIMED_OUT',
    times: Infinity,
    clientId: elector.workerId,
  })
  await elector.haltForTest()
}

describe('LeaderElector on memory://', () => {
  test('two workers of one app elect exactly one leader, which holds an epoch', async () => {
    const electors = workers(2)
    const changes: LeadershipChange[][] = [[], []]
    electors.forEach((e, i) => e.onChange((change) => changes[i]!.push(change)))
    await Promise.all(electors.map((e) => e.start()))
    await waitFor('a leader', () => leadersOf(electors).length === 1)
    const watch = watchOverlap(electors)
    await sleep(500)
    assert.equal(watch.stop(), 0)
    const leader = leadersOf(electors)[0]!
    const follower = electors.find((e) => e !== leader)!
    assert.equal(leadersOf(electors).length, 1)
    assert.equal(typeof leader.epoch(), 'number')
    assert.equal(follower.epoch(), undefined)
    assert.equal(leader.stats().elected, 1)
    assert.ok(leader.stats().leaseRemainingMs > 0)
    assert.equal(follower.stats().leader, false)
    assert.equal(await leader.confirm(), true)
    assert.equal(await follower.confirm(), false)
    const leaderChanges = changes[electors.indexOf(leader)]!
    assert.deepEqual(leaderChanges, [{ leader: true, epoch: leader.epoch() }])
    await Promise.all(electors.map((e) => e.stop()))
    assert.deepEqual(leaderChanges.at(-1), { leader: false, epoch: undefined })
    assert.equal(leadersOf(electors).length, 0)
  })

  test('when the leader stops, the other worker takes over at once with a higher epoch', async () => {
    const electors = workers(2, 10_000)
    await Promise.all(electors.map((e) => e.start()))
    await waitFor('a leader', () => leadersOf(electors).length === 1)
    const watch = watchOverlap(electors)
    const [leader] = leadersOf(electors)
    const survivor = electors.find((e) => e !== leader)!
    const firstEpoch = leader!.epoch()!
    await leader!.stop()
    const tookMs = await waitFor('the survivor to lead', () => survivor.isLeader(), 2_000)
    assert.ok(tookMs < 2_000, `took ${tookMs} ms, far below the 10 s session timeout`)
    assert.ok(survivor.epoch()! > firstEpoch)
    assert.equal(watch.stop(), 0)
    await survivor.stop()
  })

  test('a leader that stops polling without leaving loses its lease, then the survivor leads after the session timeout', async () => {
    const url = `memory://${uniqueId('leader')}`
    const electors = workers(2, 1_000, url)
    await Promise.all(electors.map((e) => e.start()))
    await waitFor('a leader', () => leadersOf(electors).length === 1)
    const watch = watchOverlap(electors)
    const [frozen] = leadersOf(electors)
    const survivor = electors.find((e) => e !== frozen)!
    await freeze(url, frozen!)
    // The session runs from the frozen member's last heartbeat, which may come just before the freeze.
    const member = [...getMemoryBroker(url.slice('memory://'.length)).groups.values()]
      .flatMap((group) => [...group.members.values()])
      .find((m) => m.clientId === frozen!.workerId)
    assert.ok(member, 'the frozen member is in the group')
    const lastSeen = member.lastSeen
    // Nothing runs for the frozen worker, yet its lease (session - heartbeat) ends its belief first.
    await waitFor('the frozen leader to drop its lease', () => !frozen!.isLeader(), 1_000)
    assert.equal(survivor.isLeader(), false)
    await waitFor('the survivor to lead', () => survivor.isLeader(), 5_000)
    const tookMs = Date.now() - lastSeen
    assert.ok(
      tookMs >= 1_000,
      `the group waited for the session timeout (${tookMs} ms since the last heartbeat)`,
    )
    assert.equal(watch.stop(), 0)
    await Promise.all(electors.map((e) => e.stop()))
  })

  test('a leader timer runs on exactly one of two workers, and on the survivor once the leader is gone', async () => {
    const url = `memory://${uniqueId('leader')}`
    const electors = workers(2, 1_000, url)
    const ticks: number[] = [0, 0]
    const timers = electors.map(
      (leader) => new Timers({ leader, onError: (error) => assert.fail(error as Error) }),
    )
    timers.forEach((t, i) => t.timer(20, () => void ticks[i]!++, { onLeader: true, name: 'leader-job' }))
    await Promise.all(electors.map((e) => e.start()))
    await waitFor('a leader', () => leadersOf(electors).length === 1)
    const first = electors.indexOf(leadersOf(electors)[0]!)
    const second = 1 - first
    await waitFor('leader ticks', () => ticks[first]! >= 10)
    assert.equal(ticks[second], 0)
    await freeze(url, electors[first]!)
    await waitFor('survivor ticks', () => ticks[second]! >= 10, 5_000)
    const frozenTicks = ticks[first]!
    await sleep(100)
    assert.equal(ticks[first], frozenTicks, 'the frozen leader no longer ticks')
    assert.ok(timers[second]!.stats()[0]!.skippedNotLeader > 0)
    await Promise.all(timers.map((t) => t.stop()))
    await Promise.all(electors.map((e) => e.stop()))
  })

  test('apps on one broker elect their leaders independently', async () => {
    const url = `memory://${uniqueId('leader')}`
    const apps = [workers(2, 1_000, url), workers(2, 1_000, url)]
    await Promise.all(apps.flat().map((e) => e.start()))
    for (const app of apps) await waitFor('a leader in each app', () => leadersOf(app).length === 1)
    assert.notEqual(apps[0]![0]!.topic, apps[1]![0]!.topic)
    await Promise.all(apps.flat().map((e) => e.stop()))
  })

  test('options are checked when the elector is made', () => {
    const transport = openTransport('memory://')
    transports.push(transport)
    assert.throws(() => new LeaderElector({ transport, appId: '' }), { code: 'INVALID_ARGUMENT' })
    assert.throws(() => new LeaderElector({ transport, appId: 'a b' }), { code: 'INVALID_ARGUMENT' })
    assert.throws(() => new LeaderElector({ transport, appId: 'app', sessionTimeoutMs: 0 }), {
      code: 'INVALID_ARGUMENT',
    })
    assert.throws(
      () => new LeaderElector({ transport, appId: 'app', sessionTimeoutMs: 1_000, heartbeatIntervalMs: 600 }),
      { code: 'INVALID_ARGUMENT' },
    )
  })
})
