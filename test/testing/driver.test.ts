import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import { App, json, raw, string, TributaryError } from '../../src/index.js'
import { Timers } from '../../src/runtime/timers/timers.js'
import { shopApp } from '../helpers/shop.js'
import { SettleTimeoutError, TestDriver, createTestDriver } from '../../src/testing/index.js'

const T0 = Date.UTC(2024, 0, 1)

describe('TestDriver', () => {
  test('a test that fails before driver.close() ends with its failure instead of keeping node --test running', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/fails-before-close.ts', import.meta.url))
    // A run of its own, not a subtest of this one (node:test marks its children in NODE_TEST_CONTEXT).
    const env = { ...process.env }
    delete env.NODE_TEST_CONTEXT
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', fixture], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    // Only a guard against a hang taking the whole suite with it: the run normally ends in about a second.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    )
    clearTimeout(guard)
    assert.equal(signal, null, `the run hung and was killed:\n${output}`)
    assert.equal(code, 1, output)
    assert.match(output, /FIXTURE-EXPECTED-FAILURE/, 'it failed where the fixture fails')
  })

  test('await using closes the driver at the end of its block', async () => {
    const { app, orders, big } = shopApp()
    let seen: TestDriver | undefined
    {
      await using driver = await TestDriver.start(app)
      seen = driver
      await driver.pipe(orders, { key: 'c1', value: { amount: 50 } })
      assert.equal((await driver.read(big)).length, 1)
      assert.ok(app.worker, 'running inside the block')
    }
    assert.equal(app.worker, undefined, 'stopped once the block ended')
    await seen.close()
  })

  test('a map, filter and sink topology turns piped orders into typed output records', async () => {
    const { app, orders, big } = shopApp()
    const driver = await TestDriver.start(app, { startTime: T0 })
    try {
      const meta = await driver.pipe(
        orders,
        Array.from({ length: 20 }, (_, i) => ({ key: `c${i % 4}`, value: { amount: i }, timestamp: T0 + i })),
      )
      assert.equal(meta.length, 20)
      const out = await driver.read(big)
      assert.deepEqual(
        out.map((r) => r.value).sort((a, b) => a - b),
        [20, 22, 24, 26, 28, 30, 32, 34, 36, 38],
      )
      for (const r of out) {
        assert.equal(r.topic, 'big-orders')
        assert.match(r.key ?? '', /^c[0-3]$/)
        // A sink keys its output like the input record, so it lands in the same partition number.
        const input = meta.find((_, i) => `c${i % 4}` === r.key)
        assert.equal(r.partition, input?.partition)
      }
      assert.deepEqual(await driver.deadLetters(), [])
      assert.equal(driver.worker.counts.get('big')?.in, 20)
    } finally {
      await driver.close()
    }
  })

  test('a groupBy puts all events of a new key in one partition and keeps their order per key', async () => {
    const app = new App({ id: 'clicks', topicPartitions: 4 })
    const clicks = app.topic('clicks', { key: string, value: json<{ user: string; n: number }>() })
    const seen = new Map<string, number[]>()
    app.agent(
      'per-user',
      clicks.stream().groupBy((click) => click.user, { name: 'by-user', key: string }),
      async (stream) => {
        for await (const event of stream) {
          const list = seen.get(event.key as string) ?? []
          list.push(event.value.n)
          seen.set(event.key as string, list)
        }
      },
    )
    const driver = await createTestDriver(app)
    try {
      const users = ['ann', 'bob', 'cid', 'dee', 'eve']
      // Keyed by session: each user's clicks are spread over every partition of the source topic.
      await driver.pipe(
        clicks,
        Array.from({ length: 100 }, (_, n) => ({
          key: `session-${n % 7}`,
          value: { user: users[n % 5]!, n },
        })),
      )
      await driver.settle()
      const repartitioned = await driver.read('clicks-by-user-repartition')
      assert.equal(repartitioned.length, 100)
      for (const user of users) {
        const partitions = new Set(repartitioned.filter((r) => r.key === user).map((r) => r.partition))
        assert.equal(partitions.size, 1, `${user} is in partitions ${[...partitions].join(', ')}`)
      }
      for (const user of users) {
        const expected = Array.from({ length: 100 }, (_, n) => n).filter((n) => users[n % 5] === user)
        const bySession = (n: number): number => n % 7
        // Order holds per source partition (a session), so each session's clicks of a user stay in order.
        for (let s = 0; s < 7; s++) {
          assert.deepEqual(
            seen.get(user)?.filter((n) => bySession(n) === s),
            expected.filter((n) => bySession(n) === s),
          )
        }
        assert.equal(seen.get(user)?.length, expected.length)
      }
    } finally {
      await driver.close()
    }
  })

  test('a branch forwards the original bytes, headers and timestamp of each event', async () => {
    const app = new App({ id: 'rides' })
    const rides = app.topic('rides', { key: string, value: json<{ price: number }>() })
    const cheap = app.topic('cheap', { key: raw, value: raw })
    const dear = app.topic('dear', { key: raw, value: raw })
    app.agent('router', rides.stream().branch([[(ride) => ride.price < 10, cheap]], dear), async (stream) => {
      for await (const event of stream) void event
    })
    const driver = await TestDriver.start(app, { startTime: T0 })
    try {
      // Whitespace and key order that re-encoding would not keep.
      await driver.pipeRaw('rides', [
        {
          key: 'r1',
          value: '{ "price" : 5,  "id":"a" }',
          headers: { source: 'app' },
          timestamp: T0 - 60_000,
        },
        { key: 'r2', value: '{"id":"b","price":25}' },
      ])
      const [low] = await driver.readRaw('cheap')
      const [high] = await driver.readRaw('dear')
      assert.equal(low?.value?.toString(), '{ "price" : 5,  "id":"a" }')
      assert.equal(low?.key?.toString(), 'r1')
      assert.deepEqual(low?.headers, [['source', Buffer.from('app')]])
      assert.equal(low?.timestamp, T0 - 60_000)
      assert.equal(high?.value?.toString(), '{"id":"b","price":25}')
      assert.equal(high?.timestamp, T0, 'a record piped without a timestamp gets the driver clock')
      assert.equal((await driver.read(cheap)).length, 1)
    } finally {
      await driver.close()
    }
  })

  test('a malformed record under the dlq policy becomes a dead letter with its coordinates, and the rest is processed', async () => {
    const { app, orders, big } = shopApp({ errors: 'dlq', topicPartitions: 1 })
    const driver = await TestDriver.start(app)
    try {
      await driver.pipe(orders, { key: 'a', value: { amount: 10 } })
      await driver.pipeRaw('orders', { key: 'b', value: '{"amount": 1', headers: { trace: 't-1' } })
      await driver.pipe(orders, { key: 'c', value: { amount: 30 } })
      assert.deepEqual(
        (await driver.read(big)).map((r) => [r.key, r.value]),
        [
          ['a', 20],
          ['c', 60],
        ],
      )
      const letters = await driver.deadLetters()
      assert.equal(letters.length, 1)
      const letter = letters[0]!
      assert.deepEqual([letter.topic, letter.partition, letter.offset, letter.agent], ['orders', 0, 1, 'big'])
      assert.match(letter.error, /JSON/)
      assert.equal(letter.value?.toString(), '{"amount": 1')
      assert.deepEqual(letter.headers, [['trace', Buffer.from('t-1')]])
      assert.ok(driver.logs.some((l) => l.level === 'warn' && l.message.includes('orders[0]@1')))
    } finally {
      await driver.close()
    }
  })

  test('a malformed record under the fail policy fails settle() with its topic, partition and offset', async () => {
    const { app, orders } = shopApp({ errors: 'fail', topicPartitions: 1 })
    const driver = await TestDriver.start(app)
    try {
      await driver.pipe(orders, { key: 'a', value: { amount: 10 } })
      await driver.pipeRaw('orders', { key: 'b', value: 'not json' })
      await driver.pipe(orders, { key: 'c', value: { amount: 30 } })
      await assert.rejects(driver.settle(), (error: unknown) => {
        assert.ok(error instanceof TributaryError)
        assert.deepEqual([error.topic, error.partition, error.offset], ['orders', 0, 1])
        assert.match(error.message, /orders\[0\]@1/)
        return true
      })
      await assert.rejects(driver.pipe(orders, { key: 'd', value: { amount: 1 } }), /orders\[0\]@1/)
      // The output is still there to look at, without settling.
      assert.deepEqual(
        (await driver.read('big-orders', { settle: false })).map((r) => r.value),
        [20],
      )
    } finally {
      await driver.close()
    }
  })

  test('a value of the wrong type for a codec names the agent, the operator, the codec, both types and the record', async (t) => {
    const app = new App({ id: 'mismatch', web: false })
    type Ride = { VendorID: string; fare: number }
    const rides = app.topic('rides', { key: string, value: json<Ride>() })
    app.agent(
      'by-vendor',
      rides.stream().groupBy((r) => r.VendorID, { name: 'by-vendor', key: string }),
      async (stream) => {
        for await (const ride of stream) void ride
      },
    )
    const driver = await TestDriver.start(app)
    t.after(() => driver.close())
    // A numeric VendorID, as taxi data has it, into a string key.
    await driver.pipe(rides, { key: '1', value: { VendorID: 1 as unknown as string, fare: 9 } })
    await assert.rejects(
      driver.settle(),
      new RegExp(
        String.raw`^TributaryError: agent "by-vendor\.by-vendor" on rides\[0\]: record rides\[0\]@0 failed: ` +
          String.raw`groupBy "by-vendor": the new key could not be encoded with codec string: expected a string, got number 1 \(errors: 'fail' stops the worker here; .*\)$`,
      ),
    )
    await assert.rejects(
      rides.send({ key: 7 as unknown as string, value: { VendorID: '1', fare: 1 } }),
      /^TributaryError: the key for topic "rides" could not be encoded with codec string: expected a string, got number 7$/,
    )
  })

  test('settle() times out with an error that names the work still pending', async () => {
    const app = new App({ id: 'stuck' })
    const input = app.topic('in', { key: string, value: string })
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    app.agent('hang', input, async (stream) => {
      for await (const _ of stream) await held
    })
    const driver = await TestDriver.start(app)
    try {
      await driver.pipe(input, [{ value: 'x' }, { value: 'y' }])
      await assert.rejects(driver.settle({ timeoutMs: 100 }), (error: unknown) => {
        assert.ok(error instanceof SettleTimeoutError)
        assert.equal(error.code, 'TIMEOUT')
        assert.equal(error.pending.length, 1)
        assert.match(
          error.pending[0]!,
          /1 fetched record\(s\) queued in its partition tasks, behind any records an agent is processing/,
        )
        assert.match(error.message, /did not settle within 100 ms/)
        return true
      })
      release()
      await driver.settle()
    } finally {
      // A graceful stop waits for the record in hand: an agent that never finishes would block it.
      release()
      await driver.close()
    }
  })

  test('close() does not hang on an agent stuck on a record: it rejects with a timeout', async () => {
    const app = new App({ id: 'stuck-forever' })
    const input = app.topic('in', { key: string, value: string })
    app.agent('hang', input, async (stream) => {
      for await (const _ of stream) await new Promise(() => undefined)
    })
    const driver = await TestDriver.start(app, { settleTimeoutMs: 100 })
    await driver.pipe(input, { value: 'x' })
    await assert.rejects(driver.close(), (error: unknown) => {
      assert.ok(error instanceof TributaryError)
      assert.equal(error.code, 'TIMEOUT')
      assert.match(error.message, /did not stop within 100 ms/)
      return true
    })
  })

  test('advancing time fires timers on the driver clock and stamps later records with the new time', async () => {
    const app = new App({ id: 'ticks' })
    const input = app.topic('in', { key: string, value: json<number>() })
    const out = app.topic('out', { key: string, value: json<number>() })
    app.agent(
      'double',
      input,
      async function* (stream) {
        for await (const event of stream) yield event.value * 2
      },
      { sink: [out] },
    )
    const driver = await TestDriver.start(app, { startTime: T0 })
    const timers = new Timers({ clock: driver.clock })
    timers.timer(60_000, async ({ scheduledAt }) => {
      await input.send({ key: 'tick', value: scheduledAt - T0, timestamp: scheduledAt })
    })
    try {
      await driver.advanceTime(3 * 60_000)
      assert.equal(driver.now(), T0 + 3 * 60_000)
      const piped = await driver.pipe(input, { key: 'late', value: 1 })
      assert.equal(piped.offset, 3)
      const records = await driver.read(input)
      assert.deepEqual(
        records.map((r) => [r.key, r.value, r.timestamp - T0]),
        [
          ['tick', 60_000, 60_000],
          ['tick', 120_000, 120_000],
          ['tick', 180_000, 180_000],
          ['late', 1, 180_000],
        ],
      )
      assert.deepEqual(
        (await driver.read(out)).map((r) => r.value),
        [120_000, 240_000, 360_000, 2],
      )
    } finally {
      await timers.stop()
      await driver.close()
    }
  })

  test('close() gives a production app its own settings back, so it can be driven again', async () => {
    const { app, orders, big } = shopApp({
      broker: 'kafka://kafka.invalid:9092',
      web: { port: 7000 },
      topicReplicationFactor: 3,
    })
    for (let round = 0; round < 2; round++) {
      const driver = await TestDriver.start(app)
      assert.match(app.settings.broker, /^memory:\/\/tributary-test-/)
      await driver.pipe(orders, { key: 'k', value: { amount: 50 } })
      assert.deepEqual(
        (await driver.read(big)).map((r) => r.value),
        [100],
        'each driver starts on an empty broker',
      )
      await driver.close()
      await driver.close()
      assert.equal(app.settings.broker, 'kafka://kafka.invalid:9092')
      assert.deepEqual(app.settings.web, { port: 7000, host: '127.0.0.1' })
      assert.equal(app.settings.topicReplicationFactor, 3)
      assert.equal(app.worker, undefined)
      await assert.rejects(driver.settle(), { code: 'CLOSED' })
    }
  })

  test('piping to a topic the app did not declare names the topics that exist', async () => {
    const { app } = shopApp()
    const driver = await TestDriver.start(app)
    try {
      await assert.rejects(driver.pipeRaw('nope', { value: 'x' }), (error: unknown) => {
        assert.ok(error instanceof TributaryError)
        assert.equal(error.code, 'UNKNOWN_TOPIC')
        assert.match(error.message, /big-orders, orders/)
        return true
      })
      await assert.rejects(driver.read('nope'), { code: 'UNKNOWN_TOPIC' })
    } finally {
      await driver.close()
    }
  })
})

describe('TestDriver with app timers and event time', () => {
  test("advanceTime fires the app's own timers on the driver's clock", async () => {
    const app = new App({ id: 'ticks' })
    const ticks: number[] = []
    app.timer(1_000, ({ scheduledAt }) => void ticks.push(scheduledAt))
    const driver = await TestDriver.start(app, { startTime: T0 })
    try {
      await driver.advanceTime(3_500)
      assert.deepEqual(ticks, [T0 + 1_000, T0 + 2_000, T0 + 3_000])
    } finally {
      await driver.close()
    }
  })

  test('a sink output carries the timestamp and headers of the record it came from', async () => {
    const { app, orders, big } = shopApp()
    const driver = await TestDriver.start(app, { startTime: T0 })
    try {
      await driver.pipe(orders, {
        key: 'k',
        value: { amount: 12 },
        timestamp: T0 + 5,
        headers: [['trace', Buffer.from('t1')]],
      })
      const [out] = await driver.read(big)
      assert.equal(out?.timestamp, T0 + 5)
      assert.deepEqual(
        out?.headers.map(([k, v]) => [k, v.toString()]),
        [['trace', 't1']],
      )
    } finally {
      await driver.close()
    }
  })
})

describe('the test driver with tables', () => {
  const tableApp = (store = 'memory://') => {
    const app = new App({ id: `tables-${Math.random().toString(36).slice(2)}`, topicPartitions: 2, store })
    const likes = app.topic('likes', { key: string, value: string })
    const counts = app.table<string | null, number>('counts', { default: 0 })
    const out = app.topic('counts', { key: string, value: string })
    app.agent(
      'count',
      likes,
      async function* (stream) {
        for await (const like of stream) yield String(counts.update(like.key, (n) => n + 1))
      },
      { tables: [counts], sink: [out] },
    )
    return { app, likes, counts, out }
  }

  test('table() settles and gives the entries; a graceful restart restores them from the changelog', async () => {
    const { app, likes, counts } = tableApp()
    const driver = await TestDriver.start(app)
    try {
      for (const key of ['a', 'b', 'a', 'c', 'a']) await driver.pipe(likes, { key, value: 'like' })
      assert.deepEqual(
        await driver.table(counts),
        new Map([
          ['a', 3],
          ['b', 1],
          ['c', 1],
        ]),
      )
      await driver.restart()
      assert.deepEqual(
        await driver.table(counts),
        new Map([
          ['a', 3],
          ['b', 1],
          ['c', 1],
        ]),
      )
      await driver.pipe(likes, { key: 'b', value: 'like' })
      assert.equal((await driver.table(counts)).get('b'), 2)
      assert.ok(driver.logs.some((l) => /table "counts" restored \d+ records?/.test(l.message)))
    } finally {
      await driver.close()
    }
  })

  test('a crash restart of an LMDB table redoes what followed the last commit, and an exactly-once one repeats nothing', async () => {
    for (const guarantee of ['at_least_once', 'exactly_once'] as const) {
      const { app, likes, counts, out } = tableApp('lmdb://')
      app.override({ processingGuarantee: guarantee, commitIntervalMs: 60_000 })
      const driver = await TestDriver.start(app)
      try {
        await driver.pipe(likes, { key: 'a', value: 'like' })
        await driver.settle()
        await driver.worker.flush()
        await driver.pipe(likes, { key: 'a', value: 'like' })
        await driver.settle()
        // Killed after the second like was processed and before it was committed.
        await driver.restart({ crash: true })
        assert.equal((await driver.table(counts)).get('a'), 2, guarantee)
        const outputs = (await driver.read(out)).map((r) => r.value)
        assert.deepEqual(outputs, guarantee === 'exactly_once' ? ['1', '2'] : ['1', '2', '2'], guarantee)
      } finally {
        await driver.close()
      }
    }
  })
})
