import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { App, json, string } from '../../src/index.js'
import { TestDriver } from '../../src/testing/index.js'

const T0 = Date.UTC(2024, 0, 1)

describe('TestDriver time', () => {
  test('advanceTime drives a wall-clock punctuation, whose output is held and committed like a record', async () => {
    const app = new App({ id: 'wall-punctuation' })
    const clicks = app.topic('clicks', { key: string, value: json<number>() })
    const totals = app.topic('totals', { key: string, value: json<{ count: number; at: number }>() })
    app.processor('count', clicks, () => {
      let count = 0
      return {
        init: (ctx) => {
          ctx.schedule(60_000, 'wall', (at) => ctx.forward(totals, { key: 'all', value: { count, at } }))
        },
        process: () => void count++,
      }
    })
    const driver = await TestDriver.start(app, { startTime: T0 })
    try {
      await driver.pipe(
        clicks,
        [1, 2, 3].map((value) => ({ key: 'k', value })),
      )
      await driver.settle()
      assert.deepEqual(await driver.read(totals), [], 'nothing before a minute has passed on the clock')
      await driver.advanceTime(60_000)
      assert.deepEqual(
        (await driver.read(totals)).map((r) => r.value),
        [{ count: 3, at: T0 + 60_000 }],
      )
      await driver.pipe(clicks, { key: 'k', value: 4 })
      await driver.advanceTime(120_000)
      assert.deepEqual(
        (await driver.read(totals)).map((r) => r.value),
        [
          { count: 3, at: T0 + 60_000 },
          { count: 4, at: T0 + 120_000 },
          { count: 4, at: T0 + 180_000 },
        ],
      )
    } finally {
      await driver.close()
    }
  })

  test('a stream-time punctuation fires when record timestamps cross its interval, not when the clock moves', async () => {
    const app = new App({ id: 'stream-punctuation' })
    const readings = app.topic('readings', { key: string, value: json<number>() })
    const marks = app.topic('marks', { key: string, value: json<number>() })
    app.processor('mark', readings, () => ({
      init: (ctx) =>
        void ctx.schedule(1_000, 'stream', (time) => ctx.forward(marks, { key: 'm', value: time })),
      process: () => undefined,
    }))
    const driver = await TestDriver.start(app, { startTime: T0 })
    try {
      await driver.advanceTime(10_000)
      assert.deepEqual(await driver.read(marks), [], 'wall-clock time does not move stream time')
      for (const t of [100, 900, 1_000, 1_500, 4_200, 4_300])
        await driver.pipe(readings, { key: 'r', value: t, timestamp: T0 + t })
      assert.deepEqual(
        (await driver.read(marks)).map((r) => r.value - T0),
        [1_000, 4_200],
        'once per boundary crossed, however many were crossed at once',
      )
    } finally {
      await driver.close()
    }
  })

  test('a take(n, withinMs) batch is flushed by advanceTime, not by waiting', async () => {
    const app = new App({ id: 'batches' })
    const input = app.topic('input', { key: string, value: json<number>() })
    const sums = app.topic('sums', { key: string, value: json<number[]>() })
    app.agent(
      'batch',
      input,
      async function* (stream) {
        for await (const batch of stream.take(10, 5_000)) yield batch.map((e) => e.value)
      },
      { sink: [sums] },
    )
    const driver = await TestDriver.start(app, { startTime: T0 })
    try {
      await driver.pipe(
        input,
        [1, 2, 3].map((value) => ({ key: 'k', value })),
      )
      await driver.settle()
      assert.deepEqual(await driver.read(sums), [], 'the batch waits for its time limit on the driver clock')
      await driver.advanceTime(4_999)
      assert.deepEqual(await driver.read(sums), [])
      await driver.advanceTime(1)
      assert.deepEqual(
        (await driver.read(sums)).map((r) => r.value),
        [[1, 2, 3]],
      )
    } finally {
      await driver.close()
    }
  })
})
