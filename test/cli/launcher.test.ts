import assert from 'node:assert/strict'
import { test } from 'node:test'
import { npmLauncher, watchLauncher } from '../../src/cli/launcher.js'
import { waitFor } from '../runtime/helpers.js'

test('npx and npm run are told apart from a shell or a service manager by the variables npm sets', () => {
  assert.equal(npmLauncher({ npm_command: 'exec' }), 'npx')
  assert.equal(npmLauncher({ npm_command: 'run-script', npm_lifecycle_event: 'start' }), 'npm run')
  assert.equal(npmLauncher({ npm_lifecycle_event: 'start' }), 'npm run')
  assert.equal(npmLauncher({}), undefined)
})

test('a process started by npx is told once when its parent is gone, and one started otherwise is not watched', async () => {
  let parent = 100
  const gone: string[] = []
  const stop = watchLauncher((why) => gone.push(why), {
    env: { npm_command: 'exec' },
    intervalMs: 5,
    parentPid: () => parent,
  })
  await new Promise((resolve) => setTimeout(resolve, 30))
  assert.deepEqual(gone, [], 'the parent is still there')
  parent = 1
  await waitFor('the parent to be missed', () => gone.length === 1)
  assert.match(gone[0]!, /^npx \(pid 100\) exited; it does not pass SIGTERM on$/)
  await new Promise((resolve) => setTimeout(resolve, 30))
  assert.equal(gone.length, 1)
  stop()

  let asked = 0
  watchLauncher(() => assert.fail('not watched'), { env: {}, intervalMs: 5, parentPid: () => ++asked })()
  assert.equal(asked, 0)
})
