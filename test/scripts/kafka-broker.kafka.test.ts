/** `npm run kafka:status` tells a broker this checkout started, one it did not, and none. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { testBroker } from '../helpers/broker.js'
import { repo } from '../cli/helpers.js'

function status(home: string, port: number): { code: number | null; out: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, TRIBUTARY_KAFKA_HOME: home }
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/kafka/broker.ts', 'status', '--port', String(port)],
    { cwd: repo, env, encoding: 'utf8' },
  )
  return { code: run.status, out: run.stdout + run.stderr }
}

test('kafka:status tells a broker that answers but was not started by this checkout from none', async () => {
  const port = Number(new URL(testBroker().replace(/^kafka:/, 'http:')).port)
  const home = mkdtempSync(join(tmpdir(), 'tributary-kafka-home-'))
  try {
    const foreign = status(home, port)
    assert.equal(foreign.code, 4, foreign.out)
    assert.match(
      foreign.out,
      new RegExp(`none started by this checkout .*answers at kafka://127\\.0\\.0\\.1:${port}`),
    )
    const free = createServer()
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve))
    const unused = (free.address() as { port: number }).port
    await new Promise<void>((resolve) => free.close(() => resolve()))
    const none = status(home, unused)
    assert.equal(none.code, 3, none.out)
    assert.match(
      none.out,
      new RegExp(`not running \\(nothing answers at kafka://127\\.0\\.0\\.1:${unused}\\)`),
    )
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
})
