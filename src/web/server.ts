/** The worker's ops HTTP server: /health, /stats and /metrics over node:http, on loopback by default. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { TributaryError } from '../errors.js'
import { resolveOpsServerOptions } from './options.js'
import { opsHandler } from './routes.js'
import type { OpsServer, OpsServerOptions } from './types.js'

/** Starts serving the provider's health, stats and metrics; resolves once the port is bound. */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { provider, port, host, timeoutMs } = resolveOpsServerOptions(options)
  // Process metrics go to a registry of this server, never prom-client's global one: two workers in one
  // process (tests, embedded apps) would otherwise clash on "metric already registered".
  const processRegistry = new Registry()
  collectDefaultMetrics({ register: processRegistry })
  const server = createServer(opsHandler(provider, processRegistry, timeoutMs))
  try {
    await listen(server, port, host)
  } catch (error) {
    processRegistry.clear()
    throw error
  }
  // After a successful bind, server errors (a transient EMFILE on accept) must not take the worker down
  // with its ops endpoint; the stream keeps processing and the next request is served normally.
  server.on('error', () => {})

  const address = server.address() as AddressInfo
  const hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    url: `http://${hostname}:${address.port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        // Keep-alive connections of scrapers would hold close() open for minutes.
        server.closeAllConnections()
        processRegistry.clear()
      })),
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      // A port taken or not allowed: say how to choose another, in the worker's flags and the app's settings.
      const hint =
        error.code === 'EADDRINUSE' || error.code === 'EACCES'
          ? '; choose another port with --web-port <n> (0 = any free port) or the setting web: { port }, or run without the ops server: --no-web or web: false'
          : ''
      reject(
        new TributaryError(
          'INVALID_ARGUMENT',
          `ops server cannot listen on ${host}:${port}: ${error.message}${hint}`,
          {
            cause: error,
          },
        ),
      )
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
}
