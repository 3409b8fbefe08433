import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TributaryError } from '../../src/errors.js'
import { startOpsServer } from '../../src/web/server.js'
import { fakeWorker, sampleStats, withServer } from './helpers.js'

test('port 0 binds any free port on 127.0.0.1, and the url says which', async () => {
  await withServer(fakeWorker().provider, (server) => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.notEqual(new URL(server.url).port, '0')
  })
})

test('/health answers 200 with the provider status when the worker is ok', async () => {
  await withServer(fakeWorker().provider, async ({ url }) => {
    const response = await fetch(`${url}/health`)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
    assert.deepEqual(await response.json(), { status: 'ok' })
  })
})

test('/health answers 503 with the status and reason while starting, stopping or failed', async () => {
  const worker = fakeWorker()
  await withServer(worker.provider, async ({ url }) => {
    for (const status of ['starting', 'stopping', 'failed'] as const) {
      worker.health = { status, reason: `the worker is ${status}` }
      const response = await fetch(`${url}/health`)
      assert.equal(response.status, 503, status)
      assert.deepEqual(await response.json(), worker.health)
    }
  })
})

test('/stats answers the provider snapshot as JSON, query string or not', async () => {
  const worker = fakeWorker()
  await withServer(worker.provider, async ({ url }) => {
    const response = await fetch(`${url}/stats?pretty=1`)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.deepEqual(await response.json(), sampleStats())
  })
})

test('unknown paths answer 404 and other methods than GET answer 405, both as JSON', async () => {
  await withServer(fakeWorker().provider, async ({ url }) => {
    const missing = await fetch(`${url}/nope`)
    assert.equal(missing.status, 404)
    assert.deepEqual(await missing.json(), {
      error: 'no such route',
      routes: ['/health', '/stats', '/metrics'],
    })
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) {
      const response = await fetch(`${url}/stats`, { method })
      assert.equal(response.status, 405, method)
      assert.equal(response.headers.get('allow'), 'GET')
      if (method !== 'HEAD') assert.deepEqual(await response.json(), { error: 'method not allowed' })
    }
  })
})

test('a provider that throws gets a 500 with a JSON error on every route, and the server keeps serving', async () => {
  const worker = fakeWorker()
  await withServer(worker.provider, async ({ url }) => {
    worker.failure = new TributaryError('CLOSED', 'the consumer was closed')
    for (const path of ['/health', '/stats', '/metrics']) {
      const response = await fetch(url + path)
      assert.equal(response.status, 500, path)
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
      assert.deepEqual(await response.json(), { error: 'the consumer was closed', code: 'CLOSED' })
    }
    worker.failure = undefined
    assert.equal((await fetch(`${url}/health`)).status, 200)
    assert.equal((await fetch(`${url}/metrics`)).status, 200)
  })
})

test('a provider that never answers gets a 500 with code TIMEOUT after timeoutMs', async () => {
  const provider = { health: () => ({ status: 'ok' as const }), stats: () => new Promise<never>(() => {}) }
  await withServer(
    provider,
    async ({ url }) => {
      const response = await fetch(`${url}/stats`)
      assert.equal(response.status, 500)
      assert.equal(((await response.json()) as { code: string }).code, 'TIMEOUT')
      assert.equal((await fetch(`${url}/health`)).status, 200)
    },
    50,
  )
})

test('close stops listening, may be called twice, and frees the port for the next server', async () => {
  const server = await startOpsServer({ provider: fakeWorker().provider, port: 0 })
  const port = Number(new URL(server.url).port)
  await fetch(`${server.url}/health`) // leaves a keep-alive connection open
  await Promise.all([server.close(), server.close()])
  await assert.rejects(fetch(`${server.url}/health`))
  const again = await startOpsServer({ provider: fakeWorker().provider, port })
  await again.close()
})

test('a port already in use is refused with INVALID_ARGUMENT', async () => {
  await withServer(fakeWorker().provider, async ({ url }) => {
    const port = Number(new URL(url).port)
    await assert.rejects(
      startOpsServer({ provider: fakeWorker().provider, port }),
      (error: TributaryError) => {
        assert.equal(error.code, 'INVALID_ARGUMENT')
        assert.match(error.message, /EADDRINUSE/)
        assert.match(error.message, /--web-port <n> \(0 = any free port\).*--no-web/)
        return true
      },
    )
  })
})

test('invalid options are refused with INVALID_ARGUMENT before anything listens', async () => {
  const provider = fakeWorker().provider
  for (const options of [
    { provider, port: -1 },
    { provider, port: 65_536 },
    { provider, port: 80.5 },
    { provider, host: '' },
    { provider, timeoutMs: 0 },
    { provider: {} as typeof provider },
  ]) {
    await assert.rejects(startOpsServer(options), { code: 'INVALID_ARGUMENT' }, JSON.stringify(options))
  }
})

test('the table routes pass the owner answers through, with Retry-After on a 503, and check limit', async () => {
  const worker = fakeWorker()
  const seen: Array<[string, string, boolean]> = []
  const provider = {
    ...worker.provider,
    tables: {
      list: () => ({ status: 200, body: { tables: [] } }),
      entries: (table: string, page: { limit: number; after: string | undefined }) => ({
        status: 200,
        body: { table, ...page },
      }),
      get: (table: string, key: string, forwarded: boolean) => {
        seen.push([table, key, forwarded])
        return Promise.resolve(
          key === 'restoring'
            ? { status: 503, body: { error: 'partition 1 of table "t" is restoring' }, retryAfterSeconds: 1 }
            : { status: 200, body: { value: 42 } },
        )
      },
    },
  }
  await withServer(provider, async (server) => {
    const ok = await fetch(`${server.url}/tables/t/${encodeURIComponent('a key/with slash')}`)
    assert.equal(ok.status, 200)
    assert.deepEqual(await ok.json(), { value: 42 })
    const busy = await fetch(`${server.url}/tables/t/restoring`, {
      headers: { 'x-tributary-forwarded': 'w1' },
    })
    assert.equal(busy.status, 503)
    assert.equal(busy.headers.get('retry-after'), '1')
    assert.deepEqual(seen, [
      ['t', 'a key/with slash', false],
      ['t', 'restoring', true],
    ])
    assert.deepEqual(await (await fetch(`${server.url}/tables/t?limit=5&after=k`)).json(), {
      table: 't',
      limit: 5,
      after: 'k',
    })
    assert.equal((await fetch(`${server.url}/tables/t?limit=0`)).status, 400)
    assert.equal((await fetch(`${server.url}/tables`)).status, 200)
  })
})

test('without tables, the table routes are unknown', async () => {
  await withServer(fakeWorker().provider, async (server) => {
    assert.equal((await fetch(`${server.url}/tables/t/k`)).status, 404)
  })
})
