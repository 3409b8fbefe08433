import assert from 'node:assert/strict'
import { test } from 'node:test'
import { App, hopping, json, session, sliding, string, tumbling, type WindowValue } from '../../src/index.js'
import { TestDriver } from '../../src/testing/index.js'

const T0 = Date.UTC(2024, 0, 1)
const MINUTE = 60_000

/** An app counting likes per video in `windows`, its closed windows on a topic and late records on another. */
function likesApp(
  windows: Parameters<App['windowedTable']>[1]['windows'],
  settings: { store?: string; processingGuarantee?: 'at_least_once' | 'exactly_once' } = {},
  options: { idleMs?: number } = {},
) {
  const app = new App({ id: `likes-${Math.random().toString(36).slice(2, 8)}`, ...settings })
  const likes = app.topic('likes', { key: string, value: string })
  const counts = app.topic('counts', { key: string, value: json<WindowValue<number>>() })
  const late = app.topic('late-likes', { key: string, value: string })
  const closes: string[] = []
  const table = app.windowedTable<string | null, number>('likes-per-window', {
    windows,
    initial: 0,
    merge: (a, b) => a + b,
    closed: counts,
    late,
    onWindowClose: (key, window, value) => closes.push(`${key}@${window.start - T0}=${value}`),
    ...options,
  })
  app.agent(
    'count',
    likes,
    async (stream) => {
      for await (const like of stream) table.update(like.key, (n) => n + 1)
    },
    { tables: [table] },
  )
  return { app, likes, counts, late, closes }
}

const at = (video: string, ms: number) => ({ key: video, value: 'u', timestamp: T0 + ms })

test('tumbling minutes: each window is emitted once, when stream time passes its end, with its final count', async (t) => {
  const { app, likes, counts, closes } = likesApp(tumbling(MINUTE))
  const driver = await TestDriver.start(app)
  t.after(() => driver.close())
  await driver.pipe(likes, [at('a', 0), at('a', 59_999), at('b', 30_000)])
  assert.deepEqual(await driver.read(counts), [], 'nothing closed yet')
  await driver.pipe(likes, at('a', MINUTE)) // stream time reaches the first window's end
  await driver.pipe(likes, at('a', 2 * MINUTE + 1))
  const emitted = (await driver.read(counts)).map(
    (r) => `${r.key}@${r.value.start - T0}-${r.value.end - T0}=${r.value.value}`,
  )
  assert.deepEqual(emitted.sort(), ['a@0-60000=2', 'a@60000-120000=1', 'b@0-60000=1'])
  assert.deepEqual(closes.sort(), ['a@0=2', 'a@60000=1', 'b@0=1'])
  const timestamps = (await driver.read(counts)).map((r) => r.timestamp - T0)
  assert.ok(
    timestamps.every((ts) => ts % MINUTE === 0),
    'a closed window is stamped with its end',
  )
})

test('a record for a closed window goes to the late topic, and the window is not emitted again', async (t) => {
  const { app, likes, counts, late } = likesApp(tumbling(MINUTE, { grace: 10_000 }))
  const driver = await TestDriver.start(app)
  t.after(() => driver.close())
  await driver.pipe(likes, [at('a', 1_000), at('a', 65_000), at('a', 2_000)]) // within grace: counted
  await driver.pipe(likes, at('a', 70_000)) // stream time 70 s: [0, 60 s) closes
  await driver.pipe(likes, [at('a', 3_000), at('b', 59_000)]) // late, both
  await driver.pipe(likes, at('a', 200_000))
  const emitted = (await driver.read(counts)).map((r) => `${r.key}@${r.value.start - T0}=${r.value.value}`)
  assert.deepEqual(emitted.sort(), ['a@0=2', 'a@60000=2'])
  assert.deepEqual(
    (await driver.read(late)).map((r) => `${r.key}@${r.timestamp - T0}`),
    ['a@3000', 'b@59000'],
  )
  const windows = driver.worker
    .tasks()
    .flatMap((task) => task.stateManager.stats())
    .map((s) => s.windows!)
  const sum = (f: (w: (typeof windows)[number]) => number): number => windows.reduce((n, w) => n + f(w), 0)
  assert.deepEqual(
    { closed: sum((w) => w.closed), late: sum((w) => w.late), pending: sum((w) => w.pending) },
    { closed: 2, late: 2, pending: 1 },
    '/stats and /metrics count the closed windows and the late records',
  )
})

test('hopping windows: a record counts in every window that overlaps it, epoch-aligned', async (t) => {
  const { app, likes, counts } = likesApp(hopping(MINUTE, 30_000))
  const driver = await TestDriver.start(app)
  t.after(() => driver.close())
  await driver.pipe(likes, [at('a', 45_000), at('a', 150_000)])
  const emitted = (await driver.read(counts)).map(
    (r) => `${r.value.start - T0}-${r.value.end - T0}=${r.value.value}`,
  )
  assert.deepEqual(emitted, ['0-60000=1', '30000-90000=1'])
})

test('sliding windows: one window per distinct set of records within the size, both ends inclusive, each emitted once', async (t) => {
  // Kafka Streams' SlidingWindows of 10 s: a record's left window ends at it, its right window
  // starts 1 ms after it when later records fall within 10 s.
  const { app, likes, counts } = likesApp(sliding(10_000, { grace: 5_000 }))
  const driver = await TestDriver.start(app)
  t.after(() => driver.close())
  await driver.pipe(likes, [at('a', 10_000), at('a', 15_000), at('a', 12_000), at('a', 40_000)])
  const emitted = (await driver.read(counts)).map(
    (r) => `${r.value.start - T0}-${r.value.end - T0}=${r.value.value}`,
  )
  assert.deepEqual(emitted, ['0-10000=1', '2000-12000=2', '5000-15000=3', '10001-20001=2', '12001-22001=1'])
})

test('sessions merge when a record bridges two, and close a gap after their last record', async (t) => {
  const { app, likes, counts } = likesApp(session(10_000, { grace: 20_000 }))
  const driver = await TestDriver.start(app)
  t.after(() => driver.close())
  await driver.pipe(likes, [at('a', 0), at('a', 5_000), at('a', 25_000), at('a', 15_000)])
  await driver.pipe(likes, at('b', 25_000 + 10_000 + 20_000 + 1))
  const emitted = (await driver.read(counts)).map(
    (r) => `${r.key}@${r.value.start - T0}-${r.value.end - T0}=${r.value.value}`,
  )
  assert.deepEqual(emitted, ['a@0-25000=4'])
})

test('the idle timeout closes pending windows when input stops, and a record for them afterwards is late', async (t) => {
  const { app, likes, counts, late } = likesApp(tumbling(MINUTE), {}, { idleMs: 5_000 })
  const driver = await TestDriver.start(app)
  t.after(() => driver.close())
  await driver.pipe(likes, [at('a', 1_000), at('a', 2_000)])
  await driver.advanceTime(4_000)
  assert.deepEqual(await driver.read(counts), [], 'not idle long enough')
  await driver.advanceTime(2_000)
  assert.deepEqual(
    (await driver.read(counts)).map((r) => r.value.value),
    [2],
  )
  await driver.pipe(likes, at('a', 3_000))
  assert.equal((await driver.read(late)).length, 1)
  assert.equal((await driver.read(counts)).length, 1)
})

test('exactly-once: windows pending at a crash are restored and emitted once with every record, and closed ones stay closed', async (t) => {
  const { app, likes, counts, late } = likesApp(tumbling(MINUTE), {
    store: 'lmdb://',
    processingGuarantee: 'exactly_once',
  })
  const driver = await TestDriver.start(app)
  t.after(() => driver.close())
  await driver.pipe(likes, [at('a', 1_000), at('b', 2_000), at('x', MINUTE)]) // closes the first minute
  await driver.pipe(likes, [at('c', 65_000), at('a', 70_000)]) // pending in the second
  await driver.settle()
  await driver.restart({ crash: true })
  await driver.pipe(likes, [at('a', 3_000), at('a', 75_000)]) // late; then one more in the second minute
  await driver.pipe(likes, at('d', 2 * MINUTE + 1))
  const emitted = (await driver.read(counts)).map((r) => `${r.key}@${r.value.start - T0}=${r.value.value}`)
  assert.deepEqual(emitted.sort(), ['a@0=1', 'a@60000=2', 'b@0=1', 'c@60000=1', 'x@60000=1'])
  assert.deepEqual(
    (await driver.read(late)).map((r) => `${r.key}@${r.timestamp - T0}`),
    ['a@3000'],
  )
})

test('running updates for live views: the latest value of each changed window at most once a second, never after its final value', async (t) => {
  const app = new App({ id: 'live-likes' })
  const likes = app.topic('likes', { key: string, value: string })
  const counts = app.topic('counts', { key: string, value: json<WindowValue<number>>() })
  const live = app.topic('live-counts', { key: string, value: json<WindowValue<number>>() })
  const table = app.windowedTable<string | null, number>('live', {
    windows: tumbling(MINUTE),
    initial: 0,
    closed: counts,
    updates: live,
    updatesEveryMs: 1_000,
  })
  app.agent(
    'count',
    likes,
    async (stream) => {
      for await (const like of stream) table.update(like.key, (n) => n + 1)
    },
    { tables: [table] },
  )
  const driver = await TestDriver.start(app)
  t.after(() => driver.close())
  const updates = async () =>
    (await driver.read(live)).map((r) => `${r.key}@${r.value.start - T0}=${r.value.value}`)
  await driver.pipe(likes, [at('a', 1_000), at('a', 2_000), at('b', 3_000)])
  assert.deepEqual(await updates(), [], 'throttled: nothing before the interval ends')
  await driver.advanceTime(1_000)
  assert.deepEqual((await updates()).sort(), ['a@0=2', 'b@0=1'], 'the latest value of each, once')
  await driver.pipe(likes, at('a', 4_000))
  await driver.advanceTime(1_000)
  await driver.advanceTime(1_000)
  assert.deepEqual(
    (await updates()).sort(),
    ['a@0=2', 'a@0=3', 'b@0=1'],
    'a window unchanged since is not sent again',
  )
  await driver.pipe(likes, [at('b', 5_000), at('c', MINUTE)]) // b changes, then its window closes
  await driver.advanceTime(1_000)
  assert.ok(!(await updates()).includes('b@0=2'), 'no running value after the final one')
  assert.ok((await driver.read(counts)).some((r) => r.key === 'b' && r.value.value === 2))
})

test('windowed tables refuse what cannot work, saying what to do', () => {
  const app = new App({ id: 'refusals' })
  assert.throws(
    () => app.windowedTable('s', { windows: session(1_000), initial: 0 }),
    /session windows need merge\(a, b\)/,
  )
  assert.throws(() => app.windowedTable('n', { windows: tumbling(1_000) } as never), /give initial/)
  assert.throws(
    () => app.windowedTable('o', { windows: tumbling(1_000), initial: { n: 0 } }),
    /give a function that makes one/,
  )
  const likes = app.topic('likes', { key: string, value: string })
  const table = app.windowedTable<string | null, number>('w', { windows: tumbling(1_000), initial: 0 })
  assert.throws(
    () => app.agent('parallel', likes, () => undefined, { tables: [table], concurrency: 4 }),
    /windowed table "w" needs the record in process, and with concurrency 4 several are/,
  )
  const ingested = app.windowedTable<string | null, number>('i', {
    windows: tumbling(1_000),
    initial: 0,
    time: 'ingestion',
  })
  assert.throws(
    () => app.agent('ingest', likes, () => undefined, { tables: [ingested] }),
    /runs on ingestion time, .* topic "likes" is not declared with configs: \{ 'message.timestamp.type': 'LogAppendTime' \}/,
  )
  const appended = app.topic('appended', {
    key: string,
    value: string,
    configs: { 'message.timestamp.type': 'LogAppendTime' },
  })
  app.agent('ingest', appended, () => undefined, { tables: [ingested] })
  const undeclared = new App({ id: 'other' }).topic('elsewhere', { key: string, value: string })
  const sending = app.windowedTable<string | null, number>('v', {
    windows: tumbling(1_000),
    initial: 0,
    closed: undeclared as never,
  })
  assert.throws(
    () => app.agent('sends', likes, () => undefined, { tables: [sending] }),
    /windowed table "v" sends to topic "elsewhere", which was not declared with app.topic\(\)/,
  )
  assert.throws(
    () => app.windowedTable('x', { windows: 'minute' as never, initial: 0 }),
    /windows must be tumbling\(size\), hopping\(size, advance\), sliding\(size\) or session\(gap\)/,
  )
})
