import assert from 'node:assert/strict'
import { test } from 'node:test'
import { App, json, string } from '../../src/index.js'
import { TestDriver } from '../../src/testing/index.js'

const T0 = Date.UTC(2024, 0, 1)

test('a processor after a groupBy sees every record of its new key in order, and its forwards are keyed like the record', async () => {
  const app = new App({ id: 'processor-groupby', topicPartitions: 3 })
  const clicks = app.topic('clicks', { key: string, value: json<{ user: string; page: string }>() })
  const paths = app.topic('paths', { key: string, value: json<string[]>() })
  app.processor(
    'paths',
    clicks.stream().groupBy((c) => c.user, { name: 'by-user', key: string }),
    () => {
      const seen = new Map<string, string[]>()
      return {
        process: (event, ctx) => {
          const user = event.key ?? '(no key)'
          const path = [...(seen.get(user) ?? []), event.value.page]
          seen.set(user, path)
          ctx.forward(paths, { value: path })
        },
      }
    },
  )
  const driver = await TestDriver.start(app, { startTime: T0 })
  try {
    const pages = ['a', 'b', 'c', 'd']
    await driver.pipe(
      clicks,
      pages.map((page, i) => ({ key: `session-${i}`, value: { user: 'u1', page }, timestamp: T0 + i })),
    )
    const out = await driver.read(paths)
    assert.deepEqual(
      out.map((r) => r.value),
      [['a'], ['a', 'b'], ['a', 'b', 'c'], ['a', 'b', 'c', 'd']],
    )
    assert.ok(
      out.every((r) => r.key === 'u1'),
      'keyed like the re-keyed record',
    )
    assert.deepEqual(
      out.map((r) => r.timestamp),
      [T0, T0 + 1, T0 + 2, T0 + 3],
    )
  } finally {
    await driver.close()
  }
})

test('a processor name must be unique among agents and processors', () => {
  const app = new App({ id: 'processor-names' })
  const input = app.topic('in', { key: string, value: string })
  app.agent('x', input, async (stream) => {
    for await (const _ of stream);
  })
  assert.throws(() => app.processor('x', input, () => ({ process: () => undefined })), /declared twice/)
})
