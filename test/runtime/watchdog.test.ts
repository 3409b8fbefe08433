import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ManualClock } from '../../src/runtime/clock.js'
import type { LogLevel } from '../../src/runtime/log.js'
import { StreamTask } from '../../src/runtime/task/task.js'
import { Watchdog, type WatchdogHost } from '../../src/runtime/watchdog.js'
import { agentSpec, FakeHost, Gates, nodeSpec, rec, subtopology, T0, until } from './task/fakes.js'

const LIMIT = 10_000 // checked every 1 s (a tenth of the limit)

/** A runner reduced to what the watchdog reads; `since` is set by the test. */
function fakeTask(id: string, name: string): { task: StreamTask; busy: (since: number | undefined) => void } {
  let since: number | undefined
  const runner = {
    spec: { name },
    busySince: () => since,
    where: () => `agent "${name}" on t[0]`,
  }
  return {
    task: { id, runners: [runner] } as unknown as StreamTask,
    busy: (s) => void (since = s),
  }
}

function fakeHost(
  tasks: () => StreamTask[],
  clock = new ManualClock(T0),
): WatchdogHost & {
  warnings: string[]
  leaves: Array<{ at: number; why: string }>
  clock: ManualClock
} {
  const host = {
    clock,
    warnings: [] as string[],
    leaves: [] as Array<{ at: number; why: string }>,
    tasks,
    log: (level: LogLevel, message: string) => void (level === 'warn' && host.warnings.push(message)),
    leave: (why: string) => {
      host.leaves.push({ at: clock.now(), why })
      return Promise.resolve()
    },
  }
  return host
}

describe('Watchdog', () => {
  test('warns once when a record is held for half the limit, and leaves the group past the limit', async () => {
    const slow = fakeTask('0_3', 'enrich')
    const host = fakeHost(() => [slow.task])
    const watchdog = new Watchdog(host.clock, LIMIT, host)
    slow.busy(T0)
    await host.clock.advance(4_999)
    assert.deepEqual(host.warnings, [])
    await host.clock.advance(1)
    assert.equal(host.warnings.length, 1)
    assert.match(host.warnings[0]!, /agent "enrich" on t\[0\] \(task 0_3\) has held its record for 5 s/)
    await host.clock.advance(4_999)
    assert.equal(host.warnings.length, 1, 'one warning per held record')
    assert.equal(host.leaves.length, 0)
    await host.clock.advance(1)
    assert.ok(host.leaves.length >= 1)
    assert.equal(host.leaves[0]!.at, T0 + LIMIT)
    assert.match(host.leaves[0]!.why, /agent "enrich" .*\(task 0_3\).*past processingTimeoutMs \(10000 ms\)/)
    watchdog.stop()
  })

  test('a processor that moves on to the next record starts its count again', async () => {
    const slow = fakeTask('1_0', 'p')
    const host = fakeHost(() => [slow.task])
    const watchdog = new Watchdog(host.clock, LIMIT, host)
    slow.busy(T0)
    await host.clock.advance(6_000)
    assert.equal(host.warnings.length, 1)
    slow.busy(host.clock.now()) // the next record
    await host.clock.advance(6_000)
    assert.equal(host.warnings.length, 2, 'the new record is reported on its own')
    assert.deepEqual(host.leaves, [], 'neither record was held past the limit')
    watchdog.stop()
  })

  test('processors waiting for records are never reported', async () => {
    const idle = fakeTask('0_0', 'idle')
    const host = fakeHost(() => [idle.task])
    const watchdog = new Watchdog(host.clock, LIMIT, host)
    await host.clock.advance(60_000)
    assert.deepEqual(host.warnings, [])
    assert.deepEqual(host.leaves, [])
    watchdog.stop()
  })

  test('names the stuck processor among several tasks', async () => {
    const fine = fakeTask('0_0', 'fine')
    const stuck = fakeTask('0_1', 'stuck')
    const host = fakeHost(() => [fine.task, stuck.task])
    const watchdog = new Watchdog(host.clock, LIMIT, host)
    stuck.busy(T0)
    await host.clock.advance(LIMIT)
    fine.busy(host.clock.now())
    assert.equal(host.leaves.length, 1)
    assert.match(host.leaves[0]!.why, /"stuck".*task 0_1/)
    watchdog.stop()
  })

  test('stop() ends the checks', async () => {
    const slow = fakeTask('0_0', 'p')
    const host = fakeHost(() => [slow.task])
    const watchdog = new Watchdog(host.clock, LIMIT, host)
    slow.busy(T0)
    watchdog.stop()
    await host.clock.advance(LIMIT * 2)
    assert.deepEqual(host.warnings, [])
    assert.deepEqual(host.leaves, [])
    assert.equal(host.clock.pending, 0)
  })

  test('a real task stuck on a record makes the worker leave, naming the processor and the task', async () => {
    const taskHost = new FakeHost()
    const gates = new Gates()
    const spec = nodeSpec('slow-sink', 't', () => ({ process: (e) => gates.wait(e.offset) }))
    const task = new StreamTask(subtopology(2, spec), 4, taskHost)
    await task.initialize()
    const host = fakeHost(() => [task], taskHost.clock)
    const watchdog = new Watchdog(host.clock, LIMIT, host)
    task.push(rec(0, { partition: 4 }))
    await until('the record in process', () => task.runners[0]!.busySince() !== undefined)
    const since = host.clock.now()
    await host.clock.advance(LIMIT)
    assert.equal(host.warnings.length, 1)
    assert.equal(host.leaves.length, 1)
    assert.equal(host.leaves[0]!.at, since + LIMIT)
    assert.match(host.leaves[0]!.why, /agent "slow-sink" on t\[4\] \(task 2_4\) has held its record for 10 s/)
    watchdog.stop()
    gates.open(0)
  })

  test('an agent filling a batch on the clock is not stuck', async () => {
    const taskHost = new FakeHost()
    const agent = agentSpec('batcher', 't', async (source) => {
      for (;;) {
        source.advance()
        const first = await source.next()
        if (first.done) return
        await source.nextWithin(60_000) // a one-minute batch window
      }
    })
    const task = new StreamTask(subtopology(0, agent), 0, taskHost)
    await task.initialize()
    const host = fakeHost(() => [task], taskHost.clock)
    const watchdog = new Watchdog(host.clock, LIMIT, host)
    task.push(rec(0))
    await until('the batch opened', () => task.parked())
    await host.clock.advance(30_000)
    assert.deepEqual(host.warnings, [])
    assert.deepEqual(host.leaves, [])
    watchdog.stop()
  })
})
