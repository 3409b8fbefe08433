import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { TributaryError } from '../../../src/errors.js'
import { ManualClock } from '../../../src/runtime/clock.js'
import { Timers, type LeadershipSource } from '../../../src/runtime/timers/timers.js'

/** A leader source flipped by hand, with the onChange that Timers listens to. */
function manualLeader(initial = false): LeadershipSource & { set(leader: boolean): void } {
  let leader = initial
  const listeners = new Set<(change: { leader: boolean }) => void>()
  return {
    isLeader: () => leader,
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    set(value) {
      leader = value
      for (const listener of listeners) listener({ leader })
    },
  }
}

/** A promise with its resolve, to hold a callback running until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { promise, open }
}

const T0 = Date.UTC(2024, 0, 1, 0, 0, 0) // a Monday, in winter (Paris is UTC+1)

describe('ManualClock', () => {
  test('fires timers in due order with now() at each due time, including ones set while advancing', async () => {
    const clock = new ManualClock(1_000)
    const seen: Array<[string, number]> = []
    clock.setTimeout(() => seen.push(['b', clock.now()]), 200)
    clock.setTimeout(() => {
      seen.push(['a', clock.now()])
      clock.setTimeout(() => seen.push(['c', clock.now()]), 50)
    }, 100)
    const cleared = clock.setTimeout(() => seen.push(['never', clock.now()]), 10)
    clock.clearTimeout(cleared)
    await clock.advance(500)
    assert.deepEqual(seen, [
      ['a', 1_100],
      ['c', 1_150],
      ['b', 1_200],
    ])
    assert.equal(clock.now(), 1_500)
    assert.equal(clock.pending, 0)
    await assert.rejects(clock.advanceTo(1_000), { code: 'INVALID_ARGUMENT' })
  })
})

describe('Timers', () => {
  test('an interval timer runs first after one interval, then once every interval', async () => {
    const clock = new ManualClock(T0)
    const timers = new Timers({ clock })
    const runs: number[] = []
    timers.timer(1_000, ({ scheduledAt }) => void runs.push(scheduledAt), { name: 'tick' })
    await clock.advance(999)
    assert.deepEqual(runs, [])
    await clock.advance(1)
    assert.deepEqual(runs, [T0 + 1_000])
    await clock.advance(3_000)
    assert.deepEqual(runs, [T0 + 1_000, T0 + 2_000, T0 + 3_000, T0 + 4_000])
    const [stats] = timers.stats()
    assert.equal(stats?.name, 'tick')
    assert.equal(stats?.runs, 4)
    assert.equal(stats?.lastRunAt, T0 + 4_000)
    assert.equal(stats?.nextRunAt, T0 + 5_000)
    await timers.stop()
  })

  test('a run still going at the next tick makes that tick skip and count, never overlap', async () => {
    const clock = new ManualClock(T0)
    const timers = new Timers({ clock })
    let running = 0
    let maxRunning = 0
    const gates: Array<ReturnType<typeof gate>> = []
    timers.timer(100, async () => {
      running++
      maxRunning = Math.max(maxRunning, running)
      const g = gate()
      gates.push(g)
      await g.promise
      running--
    })
    await clock.advance(100) // run 1 starts and hangs
    await clock.advance(300) // three ticks find it running
    assert.equal(gates.length, 1)
    let [stats] = timers.stats()
    assert.equal(stats?.running, true)
    assert.equal(stats?.skippedOverlaps, 3)
    gates[0]?.open()
    await clock.advance(100) // run 2
    gates[1]?.open()
    await clock.advance(0)
    ;[stats] = timers.stats()
    assert.equal(stats?.runs, 2)
    assert.equal(stats?.skippedOverlaps, 3)
    assert.equal(stats?.lastDurationMs, 0)
    assert.equal(maxRunning, 1)
    await timers.stop()
  })

  test('a failing callback is counted and reported, and neither it nor other timers stop', async () => {
    const clock = new ManualClock(T0)
    const reported: Array<[string, string]> = []
    const timers = new Timers({
      clock,
      onError: (error, timer) => reported.push([timer, (error as Error).message]),
    })
    let calls = 0
    timers.timer(
      10,
      () => {
        calls++
        if (calls % 2 === 1) throw new Error(`sync ${calls}`)
        return Promise.reject(new Error(`async ${calls}`))
      },
      { name: 'flaky' },
    )
    let healthy = 0
    timers.timer(10, () => void healthy++, { name: 'healthy' })
    await clock.advance(40)
    assert.equal(calls, 4)
    assert.equal(healthy, 4)
    assert.deepEqual(reported, [
      ['flaky', 'sync 1'],
      ['flaky', 'async 2'],
      ['flaky', 'sync 3'],
      ['flaky', 'async 4'],
    ])
    const flaky = timers.stats().find((s) => s.name === 'flaky')
    assert.equal(flaky?.errors, 4)
    assert.equal(flaky?.lastError, 'async 4')
    assert.equal(timers.stats().find((s) => s.name === 'healthy')?.errors, 0)
    await timers.stop()
  })

  test('an onLeader timer runs only while this worker leads, and losing leadership aborts its run', async () => {
    const clock = new ManualClock(T0)
    const leader = manualLeader(false)
    const timers = new Timers({ clock, leader })
    let runs = 0
    let aborted: unknown
    const hold = gate()
    let holding = false
    timers.timer(
      100,
      async ({ signal }) => {
        runs++
        if (!holding) return
        signal.addEventListener('abort', () => {
          aborted = signal.reason as unknown
        })
        await hold.promise
      },
      { onLeader: true, name: 'leader-only' },
    )
    let everywhere = 0
    timers.timer(100, () => void everywhere++)
    await clock.advance(300)
    assert.equal(runs, 0)
    assert.equal(everywhere, 3)
    leader.set(true)
    await clock.advance(200)
    assert.equal(runs, 2)
    holding = true
    await clock.advance(100) // a run that is still going when leadership goes
    leader.set(false)
    assert.ok(aborted instanceof TributaryError)
    assert.equal(aborted.code, 'FENCED')
    hold.open()
    await clock.advance(200)
    const stats = timers.stats().find((s) => s.name === 'leader-only')
    assert.equal(stats?.runs, 3)
    assert.equal(stats?.skippedNotLeader, 5)
    await timers.stop()
  })

  test('cron timers fire at the times of their expression, in the given time zone', async () => {
    const clock = new ManualClock(T0)
    const timers = new Timers({ clock })
    const quarter: number[] = []
    const paris: number[] = []
    timers.cron('*/15 * * * *', ({ scheduledAt }) => void quarter.push(scheduledAt), { timezone: 'UTC' })
    timers.cron('0 9 * * MON-FRI', ({ scheduledAt }) => void paris.push(scheduledAt), {
      timezone: 'Europe/Paris',
      name: 'morning',
    })
    await clock.advance(60 * 60_000)
    const minutes = (list: number[]): number[] => list.map((t) => (t - T0) / 60_000)
    assert.deepEqual(minutes(quarter), [15, 30, 45, 60])
    await clock.advanceTo(T0 + 7 * 24 * 3_600_000) // a week: Monday to Friday at 09:00 Paris = 08:00 UTC
    assert.deepEqual(
      paris.map((t) => new Date(t).toISOString()),
      [1, 2, 3, 4, 5].map((day) => `2024-01-0${day}T08:00:00.000Z`),
    )
    const stats = timers.stats().find((s) => s.name === 'morning')
    assert.equal(stats?.kind, 'cron')
    assert.equal(stats?.schedule, '0 9 * * MON-FRI (Europe/Paris)')
    assert.equal(stats?.nextRunAt, Date.parse('2024-01-08T08:00:00.000Z'))
    await timers.stop()
  })

  test('stop() cancels every timer, aborts and waits for running callbacks, and refuses new ones', async () => {
    const clock = new ManualClock(T0)
    const timers = new Timers({ clock })
    const hold = gate()
    let finished = false
    let abortReason: unknown
    let runs = 0
    timers.timer(100, async ({ signal }) => {
      runs++
      signal.addEventListener('abort', () => {
        abortReason = signal.reason as unknown
      })
      await hold.promise
      finished = true
    })
    const once = timers.timer(100, () => void runs++, { name: 'cancelled' })
    await once.cancel()
    assert.deepEqual(
      timers.stats().map((s) => s.name),
      ['timer-1'],
    )
    await clock.advance(100)
    let stopped = false
    const stopping = timers.stop().then(() => (stopped = true))
    await clock.advance(0)
    assert.equal(stopped, false)
    assert.equal((abortReason as TributaryError).code, 'CLOSED')
    hold.open()
    await stopping
    assert.equal(finished, true)
    await clock.advance(1_000)
    assert.equal(runs, 1)
    assert.equal(clock.pending, 0)
    assert.throws(() => timers.timer(100, () => undefined), { code: 'CLOSED' })
  })

  test('bad intervals, cron expressions, time zones, duplicate names and leaderless onLeader timers are refused', async () => {
    const timers = new Timers({ clock: new ManualClock() })
    const noop = (): void => undefined
    assert.throws(() => timers.timer(0, noop), { code: 'INVALID_ARGUMENT' })
    assert.throws(() => timers.timer(Number.NaN, noop), { code: 'INVALID_ARGUMENT' })
    assert.throws(() => timers.cron('every minute', noop), { code: 'INVALID_ARGUMENT' })
    assert.throws(() => timers.cron('* * * * *', noop, { timezone: 'Mars/Olympus' }), {
      code: 'INVALID_ARGUMENT',
    })
    timers.timer(10, noop, { name: 'twice' })
    assert.throws(() => timers.timer(10, noop, { name: 'twice' }), { code: 'INVALID_ARGUMENT' })
    assert.throws(() => timers.timer(10, noop, { onLeader: true }), { code: 'INVALID_ARGUMENT' })
    await timers.stop()
  })
})
