import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { App, json, string } from '../../src/index.js'

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

function app(stateDir: string, broker: string, logs: string[] = []): App {
  const a = new App({
    id: 'identity',
    broker,
    web: false,
    stateDir,
    log: (level, message) => void logs.push(`${level} ${message}`),
  })
  const input = a.topic('in', { key: string, value: json<number>(), partitions: 2 })
  a.agent('first', input, async (stream) => {
    for await (const _ of stream);
  })
  a.agent('second', input, async (stream) => {
    for await (const _ of stream);
  })
  return a
}

test('a worker keeps its UUID across restarts, and two workers of one state directory get two', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-identity-'))
  const broker = `memory://identity-${randomUUID()}`
  try {
    const a = app(dir, broker)
    const first = await a.start()
    assert.match(first.workerId, /^[0-9a-f-]{36}$/, 'a UUID, not a pid')
    const b = app(dir, broker)
    const second = await b.start()
    assert.notEqual(second.workerId, first.workerId, 'two live workers never share an id')
    await b.stop()
    await a.stop()
    const again = await a.start()
    assert.equal(again.workerId, first.workerId, 'the same slot, the same worker')
    await a.stop()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('two agents on one topic run as one task per partition, listed with their state in the worker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-tasks-'))
  const logs: string[] = []
  const a = app(dir, `memory://tasks-${randomUUID()}`, logs)
  try {
    const worker = await a.start()
    await until('two running tasks', () => worker.tasks().filter((t) => t.state === 'running').length === 2)
    const tasks = worker.tasks().map((t) => ({ id: t.id, processors: t.runners.map((r) => r.spec.name) }))
    assert.deepEqual(
      tasks.sort((x, y) => x.id.localeCompare(y.id)),
      [
        { id: '0_0', processors: ['first', 'second'] },
        { id: '0_1', processors: ['first', 'second'] },
      ],
    )
    assert.ok(
      logs.some((l) => /^debug task 0_0: restoring -> running/.test(l)),
      'lifecycle at debug',
    )
    assert.ok(
      logs.some((l) => /^info worker .*: generation \d+ \(leader\) assigns in\[0,1\]/.test(l)),
      logs.join('\n'),
    )
    const generation = worker.generation?.generation ?? -1
    worker.enforceRebalance('a test asks')
    await until('a new generation', () => (worker.generation?.generation ?? -1) > generation)
    assert.equal(worker.tasks().length, 2, 'a rebalance that moves nothing keeps the tasks')
  } finally {
    await a.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a static worker whose instance id another worker took stops with FENCED, naming the instance id', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-static-'))
  const broker = `memory://static-${randomUUID()}`
  const make = (): App => {
    const a = new App({
      id: 'static',
      broker,
      web: false,
      stateDir: dir,
      groupInstanceId: 'node-1',
      log: () => undefined,
    })
    const input = a.topic('in', { key: string, value: json<number>() })
    a.agent('read', input, async (stream) => {
      for await (const _ of stream);
    })
    return a
  }
  const first = make()
  const second = make()
  try {
    const worker = await first.start()
    await until('the first worker runs its task', () => worker.tasks().length === 1)
    await second.start()
    await assert.rejects(worker.done, (error: Error & { code?: string }) => {
      assert.equal(error.code, 'FENCED')
      assert.match(error.message, /groupInstanceId node-1/)
      return true
    })
  } finally {
    await second.stop()
    await first.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
