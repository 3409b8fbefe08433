import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { statelessManager, type StateManager } from '../../../src/runtime/task/state-manager.js'
import { StreamTask, taskId } from '../../../src/runtime/task/task.js'
import type { ErrorPolicy, NodeSpec, ProcessorContext } from '../../../src/runtime/types.js'
import {
  agentSpec,
  eachEvent,
  FakeHost,
  Gates,
  nodeSpec,
  out,
  rec,
  subtopology,
  T0,
  turns,
  until,
} from './fakes.js'

/** The committed-next offset of topic `t` (undefined: nothing to commit). */
const committable = (task: StreamTask, topic = 't'): number | undefined =>
  task.committable().find((o) => o.topic === topic)?.offset

/** A node processor that waits for `gates.open(offset)` before it is done with each record. */
function gatedNode(name: string, gates: Gates, seen: number[] = []): NodeSpec {
  return nodeSpec(name, 't', () => ({
    process: async (event) => {
      seen.push(event.offset)
      await gates.wait(event.offset)
    },
  }))
}

/** A state manager that records how it was closed (clean or dirty). */
function closeRecorder(closes: boolean[]): StateManager {
  return {
    ...statelessManager,
    close: (clean) => {
      closes.push(clean)
      return Promise.resolve()
    },
    offsets: () => 0,
  }
}

async function started(task: StreamTask): Promise<StreamTask> {
  await task.initialize()
  assert.equal(task.state, 'running')
  return task
}

/** A running task of one gated node processor, with the offsets it took in `seen`. */
async function gatedTask(): Promise<{ task: StreamTask; gates: Gates; seen: number[] }> {
  const gates = new Gates()
  const seen: number[] = []
  const task = await started(
    new StreamTask(subtopology(0, gatedNode('slow', gates, seen)), 0, new FakeHost()),
  )
  return { task, gates, seen }
}

describe('StreamTask', () => {
  test('is named <subtopology>_<partition>, and its processors see that id', async () => {
    assert.equal(taskId(3, 7), '3_7')
    const host = new FakeHost()
    let context: ProcessorContext | undefined
    const spec = nodeSpec('n', 't', () => ({ init: (c) => void (context = c), process: () => undefined }))
    const task = await started(new StreamTask(subtopology(2, spec), 5, host))
    assert.equal(task.id, '2_5')
    assert.deepEqual(task.partitions, [{ topic: 't', partition: 5 }])
    await until('init', () => context !== undefined)
    assert.equal(context!.taskId, '2_5')
    assert.equal(context!.partition, 5)
    assert.equal(context!.processor, 'n')
    assert.equal(context!.topic, 't')
  })

  test('two processors on one topic: the committable offset is the prefix both finished', async () => {
    const host = new FakeHost()
    const gates = new Gates()
    const fast: number[] = []
    const agent = agentSpec(
      'fast',
      't',
      eachEvent((e) => void fast.push(e.offset)),
    )
    const task = await started(new StreamTask(subtopology(0, agent, gatedNode('slow', gates)), 0, host))
    for (const o of [0, 1, 2]) task.push(rec(o))
    await until('the agent took every record', () => fast.length === 3)
    await turns()
    assert.equal(committable(task), undefined, 'the slow processor holds offset 0')
    gates.open(0)
    await until('offset 0 done', () => committable(task) === 1)
    await turns()
    assert.equal(committable(task), 1, 'the slow processor holds offset 1')
    gates.open(1)
    gates.open(2)
    await until('both finished every record', () => committable(task) === 3)
    assert.equal(task.inFlight(), 0)
  })

  test('quiesce hands out no record until resume, and resolves once none is in process', async () => {
    const { task, gates, seen } = await gatedTask()
    task.push(rec(0))
    await until('record 0 in process', () => seen.length === 1)
    let settled = false
    const quiesced = task.quiesce(10_000).then((ok) => (settled = ok))
    task.push(rec(1))
    await turns()
    assert.equal(settled, false, 'record 0 is still in process')
    gates.open(0)
    await quiesced
    assert.equal(settled, true)
    assert.equal(committable(task), 1)
    await turns()
    assert.deepEqual(seen, [0], 'record 1 waits for resume')
    task.resume()
    await until('record 1 taken', () => seen.length === 2)
    gates.open(1)
    await until('record 1 done', () => committable(task) === 2)
  })

  test('quiesce waits for the record in process of a task that is draining for a revocation', async () => {
    const { task, gates, seen } = await gatedTask()
    task.push(rec(0))
    task.push(rec(1))
    await until('record 0 in process', () => seen.length === 1)
    const suspended = task.suspend()
    assert.equal(task.closing, true)
    let settled: boolean | undefined
    const quiesced = task.quiesce(10_000).then((ok) => (settled = ok))
    await turns()
    assert.equal(
      settled,
      undefined,
      'record 0 is still in process: a flush now would be ahead of the offsets',
    )
    gates.open(0)
    await quiesced
    assert.equal(settled, true)
    assert.equal(committable(task), 1)
    await turns()
    assert.deepEqual(seen, [0], 'the drain waits for resume')
    task.resume()
    await until('record 1 taken by the drain', () => seen.length === 2)
    gates.open(1)
    await suspended
    assert.equal(committable(task), 2)
  })

  test('quiesce gives up after its timeout, and the task goes on', async () => {
    const { task, gates, seen } = await gatedTask()
    task.push(rec(0))
    task.push(rec(1))
    await until('record 0 in process', () => seen.length === 1)
    assert.equal(await task.quiesce(20), false)
    gates.open(0)
    await until('record 1 taken after the timeout', () => seen.length === 2)
    gates.open(1)
    await until('both done', () => committable(task) === 2)
  })

  test('two agents on one topic: an agent that holds a record keeps the other one from committing it', async () => {
    const host = new FakeHost()
    const gates = new Gates()
    const a = agentSpec(
      'a',
      't',
      eachEvent(() => undefined),
    )
    const b = agentSpec(
      'b',
      't',
      eachEvent((e) => gates.wait(e.offset)),
    )
    const task = await started(new StreamTask(subtopology(0, a, b), 0, host))
    task.push(rec(0))
    task.push(rec(1))
    gates.open(0)
    await until('b done with 0', () => committable(task) === 1)
    await turns()
    assert.equal(committable(task), 1)
    gates.open(1)
    await until('b asks for the record after 1', () => committable(task) === 2)
  })

  test('an agent with two lanes commits only the prefix both lanes finished, and suspend waits for both', async () => {
    const host = new FakeHost()
    const gates = new Gates()
    const seen: number[] = []
    const agent = agentSpec(
      'a',
      't',
      eachEvent(async (e) => {
        seen.push(e.offset)
        await gates.wait(e.offset)
      }),
      { concurrency: 2 },
    )
    const task = await started(new StreamTask(subtopology(0, agent), 0, host))
    for (const o of [0, 1, 2]) task.push(rec(o))
    await until('each lane took a record', () => seen.length === 2)
    gates.open(1) // the second lane finishes first and takes offset 2
    await until('offset 2 taken', () => seen.length === 3)
    await turns()
    assert.deepEqual(task.committable(), [], 'offset 0 is still in process on the first lane')
    gates.open(0)
    await until('offsets 0 and 1 done', () => committable(task) === 2)
    const suspending = task.suspend()
    gates.open(2)
    await suspending
    assert.equal(committable(task), 3)
  })

  test("an output's acknowledgement gates the commit of the record that sent it", async () => {
    const host = new FakeHost()
    const agent = agentSpec(
      'fwd',
      't',
      eachEvent((e, context) => context.forward([out(String(e.value))])),
    )
    const task = await started(new StreamTask(subtopology(0, agent), 0, host))
    task.push(rec(0))
    task.push(rec(1))
    await until('two outputs sent', () => host.sent.length === 2)
    await turns()
    assert.equal(committable(task), undefined, 'no output acknowledged')
    assert.equal(task.outputsInFlight, 2)
    host.ack(1)
    await turns()
    assert.equal(committable(task), undefined, 'the output of offset 0 is not acknowledged')
    host.ack(0)
    assert.equal(committable(task), 2)
    assert.equal(task.outputsInFlight, 0)
    assert.deepEqual(
      host.progress.filter(([, what]) => what === 'out'),
      [
        ['fwd', 'out'],
        ['fwd', 'out'],
      ],
    )
  })

  test("a node processor's output holds its record until acknowledged", async () => {
    const host = new FakeHost()
    const spec = nodeSpec('n', 't', () => ({ process: (e, c) => c.forward([out(String(e.value))]) }))
    const task = await started(new StreamTask(subtopology(0, spec), 0, host))
    task.push(rec(0))
    await until('the output sent', () => host.sent.length === 1)
    await turns()
    assert.equal(committable(task), undefined)
    host.ack(0)
    assert.equal(committable(task), 1)
  })

  test('an output that cannot be delivered fails the task and its record stays uncommitted', async () => {
    const host = new FakeHost()
    const spec = nodeSpec('n', 't', () => ({ process: (e, c) => c.forward([out(String(e.value))]) }))
    const task = await started(new StreamTask(subtopology(0, spec), 0, host))
    task.push(rec(0))
    await until('the output sent', () => host.sent.length === 1)
    host.refuse(0, new Error('NOT_ENOUGH_REPLICAS'))
    assert.equal(host.failures.length, 1)
    assert.match(host.failures[0]!.message, /task 0_0: an output could not be delivered: NOT_ENOUGH_REPLICAS/)
    assert.equal(task.failure, host.failures[0])
    assert.equal(committable(task), undefined)
    assert.equal(task.firstPending(), 0)
  })

  test("a punctuation's outputs cap the committable offset until they are acknowledged", async () => {
    const host = new FakeHost()
    const spec = nodeSpec('n', 't', () => ({
      init: (c) => void c.schedule(1_000, 'wall', () => c.forward([out('tick')])),
      process: () => undefined,
    }))
    const task = await started(new StreamTask(subtopology(0, spec), 0, host))
    task.push(rec(0))
    await until('offset 0 done', () => committable(task) === 1)
    await host.clock.advance(1_000)
    await until('the punctuation sent its output', () => host.sent.length === 1)
    assert.deepEqual(host.values(), ['tick'])
    task.push(rec(1))
    task.push(rec(2))
    await until('offsets 1 and 2 processed', () => task.inFlight() === 0)
    await turns()
    assert.equal(committable(task), 1, 'capped where the punctuation started')
    host.ack(0)
    assert.equal(committable(task), 3)
  })

  test('a punctuation that starts before any record is done holds every commit until its outputs are acked', async () => {
    const host = new FakeHost()
    const agent = agentSpec('a', 't', async (source, context) => {
      context.schedule(100, 'wall', () => context.forward([out('tick')]))
      await eachEvent(() => undefined)(source, context)
    })
    const task = await started(new StreamTask(subtopology(0, agent), 0, host))
    await host.clock.advance(100)
    await until('the punctuation sent', () => host.sent.length === 1)
    task.push(rec(0))
    await until('offset 0 processed', () => task.inFlight() === 0)
    await turns()
    assert.deepEqual(task.committable(), [])
    host.ack(0)
    assert.equal(committable(task), 1)
  })

  for (const kind of ['node', 'agent'] as const) {
    test(`${kind}: a stream-time punctuation runs when a record moves stream time past its boundary`, async () => {
      const host = new FakeHost()
      const fired: number[] = []
      const tick = (ts: number): void => void fired.push(ts)
      const spec =
        kind === 'node'
          ? nodeSpec('p', 't', () => ({
              init: (c) => void c.schedule(1_000, 'stream', tick),
              process: () => undefined,
            }))
          : agentSpec('p', 't', async (source, c) => {
              c.schedule(1_000, 'stream', tick)
              await eachEvent(() => undefined)(source, c)
            })
      const task = await started(new StreamTask(subtopology(0, spec), 0, host))
      task.push(rec(0, { timestamp: 500 }))
      task.push(rec(1, { timestamp: 999 }))
      await until('processed', () => task.inFlight() === 0)
      await turns()
      assert.deepEqual(fired, [])
      task.push(rec(2, { timestamp: 3_500 }))
      task.push(rec(3, { timestamp: 3_600 }))
      await until('processed', () => task.inFlight() === 0)
      await turns()
      assert.deepEqual(fired, [3_500], 'three boundaries crossed at once fire once')
    })
  }

  test('suspend drains the queued records and waits for their outputs before the task is suspended', async () => {
    const host = new FakeHost()
    const gates = new Gates()
    const seen: number[] = []
    const spec = nodeSpec('n', 't', () => ({
      process: async (e, c) => {
        seen.push(e.offset)
        await gates.wait(e.offset)
        c.forward([out(String(e.value))])
      },
    }))
    const task = await started(new StreamTask(subtopology(0, spec), 0, host))
    for (const o of [0, 1, 2]) task.push(rec(o))
    await until('offset 0 in process', () => seen.length === 1)
    let suspended = false
    const suspending = task.suspend().then(() => (suspended = true))
    task.push(rec(3)) // fetched after the suspension began: not taken
    gates.open(0)
    gates.open(1)
    gates.open(2)
    await until('the queue drained', () => host.sent.length === 3)
    await turns()
    assert.equal(suspended, false, 'outputs are not acknowledged yet')
    assert.equal(task.state, 'running')
    host.ack()
    await suspending
    assert.equal(task.state, 'suspended')
    assert.deepEqual(seen, [0, 1, 2])
    assert.equal(committable(task), 3)
    assert.equal(task.position('t'), 3, 'the record pushed while suspending was not taken')
    await task.close(true)
    assert.equal(task.state, 'closed')
  })

  test('close(false) drops the queued records: they stay uncommitted for their next owner', async () => {
    const host = new FakeHost()
    const gates = new Gates()
    const seen: number[] = []
    const closes: boolean[] = []
    const state = closeRecorder(closes)
    const task = await started(new StreamTask(subtopology(0, gatedNode('n', gates, seen)), 0, host, state))
    for (const o of [0, 1, 2]) task.push(rec(o))
    await until('offset 0 in process', () => seen.length === 1)
    await task.close(false)
    assert.equal(task.state, 'closed')
    assert.deepEqual(closes, [false], 'a dirty close leaves no checkpoint')
    gates.open(0)
    gates.open(1)
    gates.open(2)
    await until('offset 0 done', () => committable(task) === 1)
    await turns()
    assert.deepEqual(seen, [0], 'the queued records were not processed')
    assert.equal(committable(task), 1)
    assert.equal(task.firstPending(), 1)
  })

  test('close(true) of a task that was not suspended closes it dirty', async () => {
    const host = new FakeHost()
    const closes: boolean[] = []
    const state = closeRecorder(closes)
    const task = await started(
      new StreamTask(
        subtopology(
          0,
          nodeSpec('n', 't', () => ({ process: () => undefined })),
        ),
        0,
        host,
        state,
      ),
    )
    await task.close(true)
    assert.deepEqual(closes, [false])
    assert.ok(host.logs.some(([, line]) => line === 'task 0_0: running -> closed (dirty)'))
  })

  test('a node processor is initialised, gets each record in order, and is closed once', async () => {
    const host = new FakeHost()
    const calls: string[] = []
    const spec = nodeSpec('n', 't', () => {
      calls.push('create')
      return {
        init: () => void calls.push('init'),
        process: (e) => void calls.push(`process ${e.offset}`),
        close: () => void calls.push('close'),
      }
    })
    const task = await started(new StreamTask(subtopology(0, spec), 0, host))
    for (const o of [0, 1, 2]) task.push(rec(o))
    await until('processed', () => committable(task) === 3)
    assert.deepEqual(calls, ['create', 'init', 'process 0', 'process 1', 'process 2'])
    await task.suspend()
    assert.deepEqual(calls, ['create', 'init', 'process 0', 'process 1', 'process 2', 'close'])
    await task.close(true)
    assert.equal(calls.filter((c) => c === 'close').length, 1)
  })

  test('a node processor waits for an async init before the first record', async () => {
    const host = new FakeHost()
    const gates = new Gates()
    const calls: string[] = []
    const spec = nodeSpec('n', 't', () => ({
      init: async () => {
        await gates.wait('init')
        calls.push('init')
      },
      process: (e) => void calls.push(`process ${e.offset}`),
    }))
    const task = await started(new StreamTask(subtopology(0, spec), 0, host))
    task.push(rec(0))
    await turns()
    assert.deepEqual(calls, [])
    gates.open('init')
    await until('processed', () => calls.length === 2)
    assert.deepEqual(calls, ['init', 'process 0'])
  })

  for (const kind of ['agent', 'node'] as const) {
    const make = (errors: ErrorPolicy, seen: number[]) =>
      kind === 'agent'
        ? agentSpec(
            'p',
            't',
            eachEvent((e) => void seen.push(e.offset)),
            { errors },
          )
        : nodeSpec('p', 't', () => ({ process: (e) => void seen.push(e.offset) }), { errors })
    const bad = (o: number) => rec(o, { value: 'bad' })

    test(`${kind}: a record that does not decode under 'skip' is logged and committed past`, async () => {
      const host = new FakeHost()
      const seen: number[] = []
      const task = await started(new StreamTask(subtopology(0, make('skip', seen)), 0, host))
      task.push(rec(0))
      task.push(bad(1))
      task.push(rec(2))
      await until('every record done', () => committable(task) === 3)
      assert.deepEqual(seen, [0, 2])
      const warn = host.logs.find(([level]) => level === 'warn')
      assert.ok(warn, 'a warning was logged')
      assert.match(warn[1], /t\[0\]@1 could not be decoded: not a valid record \(skipped\)/)
      assert.deepEqual(
        host.progress.filter(([, what]) => what === 'error'),
        [['p', 'error']],
      )
      assert.equal(host.failures.length, 0)
    })

    test(`${kind}: a record that does not decode under 'dlq' is committed only once the dead-letter topic took it`, async () => {
      const host = new FakeHost()
      const seen: number[] = []
      const dlq = new Gates()
      host.deadLetterResult = () => dlq.wait('dlq')
      const task = await started(new StreamTask(subtopology(0, make('dlq', seen)), 0, host))
      task.push(rec(0))
      task.push(bad(1))
      task.push(rec(2))
      await until('the bad record sent to the dead-letter topic', () => host.deadLetters.length === 1)
      await turns()
      assert.equal(host.deadLetters[0]!.record.offset, 1)
      assert.equal(host.deadLetters[0]!.processor, 'p')
      assert.match(String(host.deadLetters[0]!.error), /not a valid record/)
      assert.equal(committable(task), 1, 'the dead-letter send is not acknowledged')
      dlq.open('dlq')
      await until('every record done', () => committable(task) === 3)
      assert.deepEqual(seen, [0, 2])
      assert.equal(host.failures.length, 0)
    })

    test(`${kind}: a dead-letter topic that refuses the record fails the task, which does not commit past it`, async () => {
      const host = new FakeHost()
      host.deadLetterResult = () => Promise.reject(new Error('TOPIC_AUTHORIZATION_FAILED'))
      const task = await started(new StreamTask(subtopology(0, make('dlq', [])), 0, host))
      task.push(rec(0))
      task.push(bad(1))
      await until('the task failed', () => host.failures.length === 1)
      assert.match(host.failures[0]!.message, /dead-letter topic refused it: .*TOPIC_AUTHORIZATION_FAILED/)
      await turns()
      assert.equal(committable(task), 1)
    })

    test(`${kind}: a record that does not decode under 'fail' fails the task naming it, and nothing past it is committed`, async () => {
      const host = new FakeHost()
      const seen: number[] = []
      const task = await started(new StreamTask(subtopology(0, make('fail', seen)), 0, host))
      task.push(rec(0))
      task.push(bad(1))
      task.push(rec(2))
      await until('the task failed', () => host.failures.length === 1)
      await turns()
      const failure = host.failures[0] as Error & { topic?: string; partition?: number; offset?: number }
      assert.match(failure.message, /"p" on t\[0\]: record t\[0\]@1 could not be decoded: not a valid record/)
      assert.match(
        failure.message,
        /to skip this record, stop the workers and run "tributary groups reset-offsets fake-app --topic t:0 --to-offset 2 --execute"/,
      )
      assert.deepEqual([failure.topic, failure.partition, failure.offset], ['t', 0, 1])
      assert.equal(task.failure, failure)
      assert.equal(committable(task), 1)
      assert.equal(task.firstPending(), 1)
      assert.deepEqual(seen, [0], 'the record after the bad one was not processed')
    })
  }

  test('stream time is the highest timestamp taken, not of records still queued', async () => {
    const host = new FakeHost()
    const gates = new Gates()
    const seen: number[] = []
    const task = await started(new StreamTask(subtopology(0, gatedNode('n', gates, seen)), 0, host))
    assert.equal(task.streamTime(), -1)
    task.push(rec(0, { timestamp: T0 + 300 }))
    task.push(rec(1, { timestamp: T0 + 100 }))
    task.push(rec(2, { timestamp: T0 + 900 }))
    await until('offset 0 taken', () => seen.length === 1)
    assert.equal(task.streamTime(), T0 + 300)
    gates.open(0)
    await until('offset 1 taken', () => seen.length === 2)
    assert.equal(task.streamTime(), T0 + 300, 'an older record does not move stream time back')
    gates.open(1)
    await until('offset 2 taken', () => seen.length === 3)
    assert.equal(task.streamTime(), T0 + 900)
    gates.open(2)
  })

  test('records of a topic no processor of the task reads are not taken', async () => {
    const host = new FakeHost()
    const spec = nodeSpec('n', 't', () => ({ process: () => undefined }))
    const task = await started(new StreamTask(subtopology(0, spec), 0, host))
    task.push(rec(0, { topic: 'other' }))
    assert.equal(task.inFlight(), 0)
    assert.equal(task.position('other'), undefined)
  })
})
