import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'

const run = promisify(execFile)

test('the demo produces and consumes every ride through memory:// with a rebalance on the way', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], {
    env: { ...process.env, DEMO_RIDES: '6000' },
    timeout: 60_000,
  })
  assert.match(stdout, /Produced 6000 rides/)
  assert.match(stdout, /worker-c joined the group a third of the way in/)
  assert.match(stdout, /Consumed 6000 rides/)
  const rides = [...stdout.matchAll(/^\d\s+(\d+)/gm)].map((m) => Number(m[1]))
  assert.equal(rides.length, 6, 'one line per vendor')
  assert.equal(
    rides.reduce((a, b) => a + b, 0),
    6000,
    'every ride counted exactly once',
  )
  assert.match(stdout, /Group demo-group is Stable with 3 members/)
})
