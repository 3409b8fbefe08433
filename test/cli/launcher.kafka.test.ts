/**
 * How a worker process starts and stops on the real broker: under npx, which does not pass SIGTERM on,
 * and with its ops port taken.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { openTransport } from '../../src/transport/index.js'
import { testBroker } from '../helpers/broker.js'
import { waitUntil } from '../helpers/wait.js'
import { repo, runCli } from './helpers.js'

const broker = testBroker()

/**
 * A project that has Tributary's `tributary` bin in node_modules/.bin, as an install does; the bin
 * runs this checkout's sources, so the test needs no build.
 */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-npx-'))
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'npx-user', private: true, type: 'module' }),
  )
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true })
  const tsx = createRequire(import.meta.url).resolve('tsx')
  const bin = join(dir, 'node_modules', '.bin', 'tributary')
  writeFileSync(
    bin,
    `#!/bin/sh\nexec "${process.execPath}" --import "${tsx}" "${join(repo, 'src', 'cli', 'main.ts')}" "$@"\n`,
  )
  chmodSync(bin, 0o755)
  return dir
}

test('SIGTERM to npx stops the worker it started: records committed, group left, process gone', async () => {
  const dir = project()
  const appId = `npx-${randomUUID().slice(0, 8)}`
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TAXI_BROKER: broker,
    TAXI_APP_ID: appId,
    TAXI_TOPIC_PREFIX: `${appId}-`,
    TRIBUTARY_LOG_FORMAT: 'human',
  }
  delete env.NODE_TEST_CONTEXT
  const fixture = join(repo, 'test', 'cli', 'fixtures', 'taxi.ts')
  // A copy of the fixture's path under the project names the worker's process for the cleanup below.
  const app = join(dir, 'app.ts')
  writeFileSync(app, `export * from ${JSON.stringify(fixture)}\n`)
  const npx = spawn('npx', ['--no-install', 'tributary', 'worker', app, '--no-web'], { cwd: dir, env })
  let stderr = ''
  npx.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  // The pipe closes once every process holding it (npx, its shell, the worker) has exited.
  const closed = new Promise<void>((resolve) => npx.stderr.on('close', () => resolve()))
  const transport = openTransport(broker)
  try {
    await waitUntil(
      `the worker to start:\n${stderr}`,
      () => Promise.resolve(/ is running\. /.test(stderr)),
      60_000,
    )
    const admin = transport.admin()
    await waitUntil(
      'the worker to join its group',
      async () => (await admin.describeGroup(appId)).members.length === 1,
      60_000,
    )

    npx.kill('SIGTERM')
    const exited = await Promise.race([
      closed.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 30_000)),
    ])
    assert.ok(exited, `the worker still ran 30 s after npx got SIGTERM; stderr:\n${stderr}`)
    assert.match(
      stderr,
      /Stopping \(npx \(pid \d+\) exited; it does not pass SIGTERM on\): finishing what was started/,
    )
    assert.match(
      stderr,
      new RegExp(`of app "${appId}" stopped: processed records committed, group left\\.\\n$`),
    )
    // It left the group: a killed or orphaned member would stay until its session timed out.
    assert.equal((await admin.describeGroup(appId)).members.length, 0)
  } finally {
    spawnSync('pkill', ['-KILL', '-f', dir])
    await transport.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a taken ops port fails the worker at once, before it joins its group, and says how to choose another', async () => {
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  const port = (taken.address() as { port: number }).port
  const appId = `port-${randomUUID().slice(0, 8)}`
  const transport = openTransport(broker)
  try {
    const fixture = join(repo, 'test', 'cli', 'fixtures', 'taxi.ts')
    const result = await runCli(
      ['worker', fixture, '--web-host', '127.0.0.1', '--web-port', String(port)],
      '',
      {
        TAXI_BROKER: broker,
        TAXI_APP_ID: appId,
        TAXI_TOPIC_PREFIX: `${appId}-`,
      },
    )
    assert.equal(result.code, 1, result.stderr)
    assert.match(result.stderr, new RegExp(`^error: .*127\\.0\\.0\\.1:${port}.*EADDRINUSE`, 'm'))
    assert.match(result.stderr, /--web-port <n> \(0 = any free port\).*--no-web/)
    const groups = (await transport.admin().listGroups()).map((g) => g.groupId)
    assert.ok(!groups.includes(appId), `the group ${appId} was joined: ${groups.join(', ')}`)
  } finally {
    taken.close()
    await transport.close()
  }
})
