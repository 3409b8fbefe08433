import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'

const run = promisify(execFile)

test('the demo runs an app of three workers on memory:// and counts every ride exactly once across the rebalance', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], {
    env: { ...process.env, DEMO_RIDES: '6000' },
    timeout: 90_000,
  })
  assert.match(stdout, /Two workers of app "demo" joined/)
  assert.match(stdout, /worker-c joined a third of the way in/)
  assert.match(stdout, /Produced and processed 6000 rides/)
  const perWorker = [...stdout.matchAll(/worker-([abc])=(\d+)/g)].map((m) => Number(m[2]))
  assert.equal(perWorker.length, 3, 'three workers processed rides')
  assert.ok(perWorker.every((n) => n > 0))
  const rides = [...stdout.matchAll(/^\d\s+(\d+)\s+(\d+)/gm)].map((m) => Number(m[1]))
  assert.equal(rides.length, 6, 'one line per vendor')
  assert.equal(
    rides.reduce((a, b) => a + b, 0),
    6000,
  )
  assert.match(stdout, /each exactly once across the rebalance/)
})
