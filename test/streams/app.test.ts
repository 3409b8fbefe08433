import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { App, json, string } from '../../src/index.js'
import { openTransport } from '../../src/transport/index.js'
import { shopApp } from '../helpers/shop.js'
import { readRecords } from '../transport/helpers.js'

test('an agent maps, filters and yields to a sink topic, keyed like its input', async () => {
  const broker = `memory://app-${randomUUID()}`
  const { app, orders } = shopApp({ broker, web: false })
  await app.start()
  for (let i = 0; i < 20; i++) await orders.send({ key: `c${i % 4}`, value: { amount: i } })
  const transport = openTransport(broker)
  const out = await readRecords(transport, 'big-orders', 10, 20_000)
  await app.stop()
  assert.deepEqual(
    out.map((r) => Number(r.value!.toString())).sort((a, b) => a - b),
    [20, 22, 24, 26, 28, 30, 32, 34, 36, 38],
  )
  for (const r of out) assert.match(r.key!.toString(), /^c[0-3]$/)
})

test('the ops server shows the assignment and agent counts of a running app', async () => {
  const app = new App({
    id: 'ops',
    broker: `memory://ops-${randomUUID()}`,
    topicPartitions: 2,
    web: { port: 0 },
  })
  const input = app.topic('in', { key: string, value: string })
  app.agent('echo', input, async (stream) => {
    for await (const event of stream) void event
  })
  await app.start()
  try {
    for (let i = 0; i < 5; i++) await input.send({ key: `k${i}`, value: 'v' })
    const deadline = Date.now() + 10_000
    let stats: { assignment: Record<string, number[]>; agents: Array<{ name: string; eventsIn: number }> }
    do {
      await new Promise((r) => setTimeout(r, 50))
      stats = (await (await fetch(`${app.opsUrl}/stats`)).json()) as typeof stats
    } while (stats.agents[0]!.eventsIn < 5 && Date.now() < deadline)
    assert.deepEqual(stats.assignment, { in: [0, 1] })
    assert.equal(stats.agents[0]!.eventsIn, 5)
    const health = await fetch(`${app.opsUrl}/health`)
    assert.equal(health.status, 200)
    const metrics = await (await fetch(`${app.opsUrl}/metrics`)).text()
    assert.match(metrics, /tributary_agent_events_in_total\{[^}]*agent="echo"[^}]*\} 5/)
  } finally {
    await app.stop()
  }
})

test('a leader timer runs on exactly one of two workers of an app, and moves when that worker stops', async () => {
  const broker = `memory://leader-${randomUUID()}`
  const runs = new Map<string, number>()
  const build = (workerId: string): App => {
    const app = new App({
      id: 'timers',
      broker,
      workerId,
      web: false,
      sessionTimeoutMs: 1_000,
      log: () => undefined,
    })
    app.timer(50, () => void runs.set(workerId, (runs.get(workerId) ?? 0) + 1), {
      onLeader: true,
      name: 'tick',
    })
    return app
  }
  const a = build('a')
  const b = build('b')
  await a.start()
  await b.start()
  try {
    await new Promise((r) => setTimeout(r, 600))
    assert.equal(runs.size, 1, `only one worker ran the leader timer: ${[...runs.keys()].join(', ')}`)
    const [leader] = [...runs.keys()]
    const [survivor, stopped] = leader === 'a' ? [b, a] : [a, b]
    assert.ok(!survivor.isLeader())
    await stopped.stop()
    const before = runs.get(survivor.settings.workerId!) ?? 0
    await new Promise((r) => setTimeout(r, 800))
    assert.ok(survivor.isLeader(), 'the survivor took over')
    assert.ok((runs.get(survivor.settings.workerId!) ?? 0) > before, 'and runs the timer')
  } finally {
    await a.stop()
    await b.stop()
  }
})

test('a graceful stop gives up on an agent stuck on a record after stopTimeoutMs, leaving that record uncommitted', async () => {
  const broker = `memory://stuck-${randomUUID()}`
  const logs: string[] = []
  const app = new App({
    id: 'stuck',
    broker,
    web: false,
    stopTimeoutMs: 300,
    commitIntervalMs: 20,
    log: (_l, m) => void logs.push(m),
  })
  const input = app.topic('in', { key: string, value: string })
  let taken = 0
  app.agent('hang', input, async (stream) => {
    for await (const event of stream) {
      taken++
      if (event.value === 'stuck') await new Promise(() => undefined)
    }
  })
  await app.start()
  await input.send({ value: 'ok' })
  await input.send({ value: 'stuck' })
  while (taken < 2) await new Promise((r) => setTimeout(r, 10))
  const started = Date.now()
  await app.stop()
  assert.ok(Date.now() - started < 5_000, 'stop did not wait forever')
  assert.ok(
    logs.some((m) => /still busy after 300 ms \(hang on in\[0\] \(task 0_0\)\)/.test(m)),
    logs.join('\n'),
  )
  const transport = openTransport(broker)
  assert.deepEqual(await transport.admin().listGroupOffsets('stuck'), [
    { topic: 'in', partition: 0, offset: 1 },
  ])
  await transport.close()
})

test('an agent with concurrency 4 processes up to four records of a partition at once and commits them all', async () => {
  const broker = `memory://concurrency-${randomUUID()}`
  const app = new App({ id: 'conc', broker, web: false, commitIntervalMs: 20, log: () => undefined })
  const input = app.topic('in', { key: string, value: json<number>() })
  let running = 0
  let most = 0
  const done = new Set<number>()
  app.agent(
    'slow',
    input,
    async (stream) => {
      for await (const event of stream) {
        most = Math.max(most, ++running)
        await new Promise((r) => setTimeout(r, 5))
        running--
        done.add(event.value)
      }
    },
    { concurrency: 4 },
  )
  await app.start()
  try {
    for (let i = 0; i < 40; i++) await input.send({ key: 'same-key', value: i })
    while (done.size < 40) await new Promise((r) => setTimeout(r, 10))
    await app.worker!.flush()
    assert.equal(most, 4, 'four bodies in process at once')
    const transport = openTransport(broker)
    assert.deepEqual(await transport.admin().listGroupOffsets('conc'), [
      { topic: 'in', partition: 0, offset: 40 },
    ])
    await transport.close()
  } finally {
    await app.stop()
  }
})

test('an agent without a body keeps its concurrency: three slow function sinks of one partition run at once', async () => {
  const broker = `memory://bodyless-concurrency-${randomUUID()}`
  const app = new App({ id: 'bodyless', broker, web: false, commitIntervalMs: 20, log: () => undefined })
  const input = app.topic('in', { key: string, value: json<number>() })
  let running = 0
  let most = 0
  const done = new Set<number>()
  const slowSink = async (value: number): Promise<void> => {
    most = Math.max(most, ++running)
    await new Promise((r) => setTimeout(r, 5))
    running--
    done.add(value)
  }
  app.agent('slow', input, { sink: [slowSink], concurrency: 3 })
  await app.start()
  try {
    for (let i = 0; i < 30; i++) await input.send({ key: 'same-key', value: i })
    while (done.size < 30) await new Promise((r) => setTimeout(r, 10))
    await app.worker!.flush()
    assert.equal(most, 3, 'three values in their sink at once')
    const transport = openTransport(broker)
    assert.deepEqual(await transport.admin().listGroupOffsets('bodyless'), [
      { topic: 'in', partition: 0, offset: 30 },
    ])
    await transport.close()
  } finally {
    await app.stop()
  }
})

test('agent concurrency must be a whole number of at least one', () => {
  const app = new App({ id: 'bad', web: false })
  const input = app.topic('in', { key: string, value: string })
  assert.throws(
    () => app.agent('x', input, () => Promise.resolve(), { concurrency: 0 }),
    /concurrency must be a whole number >= 1, got 0/,
  )
})

test('/stats of a worker reflects its assignment after a rebalance', async () => {
  const broker = `memory://rebalance-${randomUUID()}`
  const build = (workerId: string): App => {
    const app = new App({
      id: 'shares',
      broker,
      workerId,
      topicPartitions: 4,
      web: { port: 0 },
      sessionTimeoutMs: 1_000,
      log: () => undefined,
    })
    app.agent('noop', app.topic('in', { key: string, value: string }), async (stream) => {
      for await (const event of stream) void event
    })
    return app
  }
  const assigned = async (app: App): Promise<number[]> => {
    const stats = (await (await fetch(`${app.opsUrl}/stats`)).json()) as {
      assignment: Record<string, number[]>
    }
    return stats.assignment.in ?? []
  }
  const a = build('a')
  const b = build('b')
  await a.start()
  try {
    const deadline = Date.now() + 10_000
    while ((await assigned(a)).length !== 4 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20))
    assert.deepEqual(await assigned(a), [0, 1, 2, 3])
    await b.start()
    while (
      (await assigned(a)).length + (await assigned(b)).length !== 4 ||
      (await assigned(b)).length === 0
    ) {
      if (Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 20))
    }
    const [fromA, fromB] = [await assigned(a), await assigned(b)]
    assert.equal(fromA.length, 2)
    assert.equal(fromB.length, 2)
    assert.deepEqual([...fromA, ...fromB].sort(), [0, 1, 2, 3])
  } finally {
    await b.stop()
    await a.stop()
  }
})

test('a repartition topic gets as many partitions as its source topic has on the broker', async () => {
  const broker = `memory://copartition-${randomUUID()}`
  const transport = openTransport(broker)
  await transport.admin().createTopics([{ topic: 'events', partitions: 4 }])
  const app = new App({ id: 'co', broker, web: false, log: () => undefined })
  const events = app.topic('events', { key: string, value: json<{ user: string }>() })
  app.agent(
    'by-user',
    events.stream().groupBy((e) => e.user, { name: 'by-user', key: string }),
    async (stream) => {
      for await (const event of stream) void event
    },
  )
  await app.start()
  try {
    const [described] = await transport.admin().describeTopics(['co-by-user-repartition'])
    assert.equal(described?.partitions.length, 4)
  } finally {
    await app.stop()
    await transport.close()
  }
})

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

test('take() never takes a record for a batch already handed out, so a record is committed only after it was processed', async () => {
  const app = new App({
    id: 'take',
    broker: `memory://take-${randomUUID()}`,
    web: false,
    commitIntervalMs: 20,
    log: () => undefined,
  })
  const input = app.topic('in', { key: string, value: string })
  const processed: string[] = []
  app.agent('batches', input, async (stream) => {
    for await (const batch of stream.take(100, 50)) {
      await sleep(400)
      for (const e of batch) processed.push(e.value ?? '')
    }
  })
  const worker = await app.start()
  try {
    await input.send({ value: 'a' })
    await sleep(150) // [a] is in the body
    await input.send({ value: 'b' })
    await sleep(450) // the body took its next batch: [b], not processed yet
    await worker.flush()
    assert.deepEqual(processed, ['a'])
    assert.equal(worker.committedOffsets()[0]?.offset, 1, 'b is not committed before it is processed')
  } finally {
    await app.stop()
  }
})

test('after a batch fails under skip, the next records reach the restarted body', async () => {
  const app = new App({
    id: 'skip',
    broker: `memory://skip-${randomUUID()}`,
    errors: 'skip',
    web: false,
    log: () => undefined,
  })
  const input = app.topic('in', { key: string, value: string })
  const seen: string[] = []
  app.agent('batches', input, async (stream) => {
    for await (const batch of stream.take(100, 50)) {
      for (const e of batch) {
        if (e.value === 'bad') throw new Error('boom')
        seen.push(e.value ?? '')
      }
    }
  })
  await app.start()
  try {
    for (const value of ['bad', 'c', 'd', 'e']) {
      await input.send({ value })
      await sleep(150)
    }
    assert.deepEqual(seen, ['c', 'd', 'e'])
  } finally {
    await app.stop()
  }
})

test('an agent body that returns without reading its stream stops the worker with a clear error instead of spinning', async () => {
  const app = new App({
    id: 'lazy',
    broker: `memory://lazy-${randomUUID()}`,
    web: false,
    log: () => undefined,
  })
  const input = app.topic('in', { key: string, value: string })
  app.agent('lazy', input, () => Promise.resolve())
  const worker = await app.start()
  await input.send({ value: 'x' }).catch(() => undefined)
  await assert.rejects(worker.done, /agent "lazy" on in\[0\] returned without reading its stream/)
  await app.stop()
})

test('ask() with a value the codec refuses rejects once, leaving no reply pending', async () => {
  const app = new App({
    id: 'askbad',
    broker: `memory://askbad-${randomUUID()}`,
    web: false,
    log: () => undefined,
  })
  const input = app.topic('in', { key: string, value: string })
  const agent = app.agent('echo', input, async function* (stream) {
    for await (const e of stream) yield e.value
  })
  await app.start()
  try {
    await assert.rejects(
      agent.ask({ value: 42 as unknown as string }, { timeoutMs: 200 }),
      /the value for topic "in" could not be encoded with codec string: expected a string, got number 42/,
    )
    await sleep(300) // a reply left pending would now reject with no handler and fail this test file
  } finally {
    await app.stop()
  }
})

test('stop() while the app is starting leaves a stopped worker, and start() says it was stopped', async () => {
  const app = new App({
    id: 'early',
    broker: `memory://early-${randomUUID()}`,
    web: false,
    log: () => undefined,
  })
  app.agent('noop', app.topic('in', { key: string, value: string }), async (stream) => {
    for await (const event of stream) void event
  })
  const starting = app.start()
  const worker = app.worker
  await app.stop()
  await assert.rejects(starting, /was stopped while it was starting/)
  assert.equal(worker?.state, 'stopped')
})

test('an unknown setting or option is refused by name, with the nearest known one', () => {
  const refuses = (make: () => unknown, pattern: RegExp): void => assert.throws(make, pattern)
  refuses(
    () => new App({ id: 'typo', brokr: 'kafka://127.0.0.1:9092' } as never),
    /App setting "brokr" is not known\. Did you mean "broker"\? Known: id, broker, /,
  )
  refuses(
    () => new App({ id: 'typo', web: { prot: 8080 } } as never),
    /"prot" is not known\. Did you mean "port"\?/,
  )
  refuses(() => new App({ id: 'typo', xyz: 1 } as never), /App setting "xyz" is not known\. Known: /)
  const app = new App({ id: 'typo', web: false })
  assert.throws(() => app.override({ commitInterval: 5 } as never), /Did you mean "commitIntervalMs"\?/)
  refuses(
    () => app.topic('t1', { key: string, value: string, partiton: 3 } as never),
    /Topic "t1": option "partiton" is not known\. Did you mean "partitions"\?/,
  )
  refuses(
    () => (app.topic as (name: string) => unknown)('bare'),
    /Topic "bare" needs its codecs: app\.topic\('bare', \{ key: string, value: json\(\) \}\)/,
  )
  refuses(
    () => app.topic('half', { value: string } as never),
    /Topic "half": option "key" must be a codec \(string, json\(\), raw, \.\.\.\), got undefined/,
  )
  const input = app.topic('in', { key: string, value: json<number>() })
  refuses(
    () => app.agent('a', input, () => Promise.resolve(), { concurency: 2 } as never),
    /Agent "a": option "concurency" is not known\. Did you mean "concurrency"\?/,
  )
  refuses(
    () => app.processor('p', input, () => ({ process: () => undefined }), { error: 'skip' } as never),
    /Processor "p": option "error" is not known\. Did you mean "errors"\?/,
  )
  refuses(
    () => input.stream().groupBy((v) => String(v), { name: 'g', key: string, partition: 2 } as never),
    /groupBy "g": option "partition" is not known\. Did you mean "partitions"\?/,
  )
})
