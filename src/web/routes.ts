/** The ops server's routes: GET /health, /stats and /metrics; every answer is built before a byte is sent. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Registry } from 'prom-client'
import { TributaryError } from '../errors.js'
import { snapshotRegistry } from './metrics.js'
import type { OpsProvider, TableAnswer } from './types.js'

interface Reply {
  status: number
  contentType: string
  body: string
  headers?: Record<string, string>
}

const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * The request handler of one ops server. `processRegistry` holds this server's process metrics;
 * the worker's own metrics are rebuilt from a fresh snapshot on each scrape and merged in.
 */
export function opsHandler(
  provider: OpsProvider,
  processRegistry: Registry,
  timeoutMs: number,
): (request: IncomingMessage, response: ServerResponse) => void {
  const routes = new Map<string, () => Promise<Reply>>([
    [
      '/health',
      async () => {
        const health = await Promise.resolve(provider.health())
        return json(health.status === 'ok' ? 200 : 503, health)
      },
    ],
    ['/stats', async () => json(200, await provider.stats())],
    [
      '/metrics',
      async () => {
        const merged = Registry.merge([processRegistry, snapshotRegistry(await provider.stats())])
        return { status: 200, contentType: processRegistry.contentType, body: await merged.metrics() }
      },
    ],
  ])

  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://ops')
    const path = url.pathname
    const route =
      path === '/tables' || path.startsWith('/tables/')
        ? tableRoute(provider, request, url)
        : routes.get(path)
    const reply: Promise<Reply> =
      route === undefined
        ? Promise.resolve(json(404, { error: 'no such route', routes: [...routes.keys()] }))
        : request.method !== 'GET'
          ? Promise.resolve({ ...json(405, { error: 'method not allowed' }), headers: { allow: 'GET' } })
          : withTimeout(route(), timeoutMs, path).catch(failure)
    // Provider errors became a 500 above; the last catch only guards the worker against a bug here.
    void reply.then((r) => send(response, r)).catch(() => response.destroy())
  }
}

/** Header of a table request forwarded by another worker: it is answered, never forwarded again. */
export const FORWARDED_HEADER = 'x-tributary-forwarded'

/** /tables, /tables/<name>, /tables/<name>/<key> (keys are URL-encoded). */
function tableRoute(
  provider: OpsProvider,
  request: IncomingMessage,
  url: URL,
): (() => Promise<Reply>) | undefined {
  const tables = provider.tables
  if (!tables) return undefined
  const parts = url.pathname
    .split('/')
    .slice(2)
    .map((p) => decodeURIComponent(p))
  const answer = (a: TableAnswer): Reply => ({
    ...json(a.status, a.body),
    ...(a.retryAfterSeconds !== undefined ? { headers: { 'retry-after': String(a.retryAfterSeconds) } } : {}),
  })
  if (parts.length === 0 || (parts.length === 1 && parts[0] === ''))
    return async () => answer(await tables.list())
  if (parts.length === 1) {
    const limit = Number(url.searchParams.get('limit') ?? 100)
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      return () =>
        Promise.resolve(
          json(400, {
            error: `limit must be a whole number from 1 to 10000, got ${url.searchParams.get('limit')}`,
          }),
        )
    const after = url.searchParams.get('after') ?? undefined
    return async () => answer(await tables.entries(parts[0]!, { limit, after }))
  }
  if (parts.length === 2) {
    const forwarded = request.headers[FORWARDED_HEADER] !== undefined
    return async () => answer(await tables.get(parts[0]!, parts[1]!, forwarded))
  }
  return undefined
}

function json(status: number, value: unknown): Reply {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(value) }
}

/** A provider that throws or rejects: the error's message (and code) go to the caller as JSON. */
function failure(error: unknown): Reply {
  const message = error instanceof Error ? error.message : String(error)
  const code = error instanceof TributaryError ? error.code : undefined
  return json(500, { error: message, code })
}

function send(response: ServerResponse, reply: Reply): void {
  response.writeHead(reply.status, {
    'content-type': reply.contentType,
    'cache-control': 'no-store',
    ...reply.headers,
  })
  response.end(reply.body)
}

/** A hung provider must not pile up open requests: each waits at most `ms`. */
async function withTimeout<T>(work: Promise<T>, ms: number, path: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TributaryError('TIMEOUT', `the worker did not answer ${path} within ${ms} ms`)),
      ms,
    )
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}
