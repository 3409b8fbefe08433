/** The App's leader timers across worker processes on the real broker. */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { join } from 'node:path'
import { test } from 'node:test'
import { testBroker } from '../../helpers/broker.js'

const fixture = join(import.meta.dirname, '..', 'fixtures', 'timer-app.ts')

test('an app timer with onLeader runs on exactly one of two worker processes, and on the survivor after the leader is killed', async (t) => {
  const appId = `timer-app-${randomUUID().slice(0, 8)}`
  const ticks: Array<{ worker: string; at: number }> = []
  const start = (workerId: string): Promise<ChildProcess> => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, testBroker(), appId, workerId], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    return new Promise((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n')) {
          if (line.startsWith('tick ')) ticks.push({ worker: line.slice(5), at: Date.now() })
          if (line === `ready ${workerId}`) resolve(child)
        }
      })
      child.once('exit', (code) => reject(new Error(`${workerId} exited (${code}) before it was ready`)))
    })
  }
  const workers = new Map<string, ChildProcess>([
    ['w1', await start('w1')],
    ['w2', await start('w2')],
  ])
  try {
    const until = async (what: string, done: () => boolean, ms: number): Promise<void> => {
      const deadline = Date.now() + ms
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    await until('ticks', () => ticks.length >= 5, 30_000)
    await new Promise((r) => setTimeout(r, 1_000))
    const tickers = new Set(ticks.map((t) => t.worker))
    assert.equal(tickers.size, 1, `one worker ticks, not ${[...tickers].join(' and ')}`)
    const [leader] = [...tickers] as [string]
    const survivor = leader === 'w1' ? 'w2' : 'w1'
    const killedAt = Date.now()
    workers.get(leader)!.kill('SIGKILL')
    await once(workers.get(leader)!, 'exit')
    // Lines the killed worker wrote before it died may still be read now: count ticks after this.
    await new Promise((r) => setTimeout(r, 200))
    const deadAt = Date.now()
    await until('the survivor to tick', () => ticks.some((t) => t.worker === survivor), 30_000)
    const takeover = ticks.find((t) => t.worker === survivor)!.at - killedAt
    assert.ok(
      ticks.filter((tick) => tick.at > deadAt).every((tick) => tick.worker === survivor),
      'only the survivor ticks after the kill',
    )
    t.diagnostic(`the survivor's first tick came ${takeover} ms after the kill (session timeout 6 s)`)
  } finally {
    for (const child of workers.values()) if (child.exitCode === null) child.kill('SIGKILL')
  }
})
