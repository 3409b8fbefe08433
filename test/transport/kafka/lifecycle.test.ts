/** kafka:// lifecycle: after Transport.close() nothing keeps the process alive. */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

test('a process that used every kind of client ends by itself once the transport is closed', async () => {
  const script = fileURLToPath(new URL('./fixtures/lifecycle.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  let closedAt = 0
  child.stdout.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('closed;')) closedAt = Date.now()
  })
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('exit', (exit) => {
      clearTimeout(timer)
      resolve(exit)
    })
  })
  assert.equal(code, 0, output)
  assert.match(output, /pending poll ended with CLOSED/)
  assert.ok(Date.now() - closedAt < 3_000, `the process lingered ${Date.now() - closedAt} ms after close`)
})
