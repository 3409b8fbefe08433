import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { claimIdentity } from '../../src/runtime/identity.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
/** A pid no process has (above Linux's pid_max). */
const DEAD_PID = 2147483646

const roots: string[] = []
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-identity-'))
  roots.push(dir)
  return join(dir, 'state')
}
after(() => {
  for (const dir of roots) rmSync(dir, { recursive: true, force: true })
})

describe('claimIdentity', () => {
  test('creates the state directory and a persisted UUID in slot 0, locked with this pid', () => {
    const stateDir = freshDir()
    const identity = claimIdentity(stateDir)
    try {
      assert.match(identity.id, UUID)
      assert.equal(identity.dir, join(stateDir, 'worker-0'))
      assert.equal(readFileSync(join(identity.dir, 'worker-id'), 'utf8').trim(), identity.id)
      assert.equal(readFileSync(join(identity.dir, 'lock'), 'utf8').trim(), String(process.pid))
    } finally {
      identity.release()
    }
    assert.equal(existsSync(join(identity.dir, 'lock')), false, 'release removes the lock')
  })

  test('a worker that releases and claims again is the same worker', () => {
    const stateDir = freshDir()
    const first = claimIdentity(stateDir)
    first.release()
    const again = claimIdentity(stateDir)
    try {
      assert.equal(again.id, first.id)
      assert.equal(again.dir, first.dir)
    } finally {
      again.release()
    }
  })

  test('two claims in one process get two slots with different ids', () => {
    const stateDir = freshDir()
    const a = claimIdentity(stateDir)
    const b = claimIdentity(stateDir)
    try {
      assert.equal(a.dir, join(stateDir, 'worker-0'))
      assert.equal(b.dir, join(stateDir, 'worker-1'))
      assert.notEqual(a.id, b.id)
      assert.match(b.id, UUID)
    } finally {
      a.release()
      b.release()
    }
  })

  test('a slot freed by release is the first one claimed next, with its id', () => {
    const stateDir = freshDir()
    const a = claimIdentity(stateDir)
    const b = claimIdentity(stateDir)
    a.release()
    const c = claimIdentity(stateDir)
    try {
      assert.equal(c.dir, a.dir)
      assert.equal(c.id, a.id)
    } finally {
      b.release()
      c.release()
    }
  })

  test('releasing twice does not free a slot claimed again since', () => {
    const stateDir = freshDir()
    const a = claimIdentity(stateDir)
    a.release()
    const b = claimIdentity(stateDir)
    a.release()
    const c = claimIdentity(stateDir)
    try {
      assert.equal(b.dir, join(stateDir, 'worker-0'))
      assert.equal(c.dir, join(stateDir, 'worker-1'), 'slot 0 is still held by b')
      assert.equal(readFileSync(join(b.dir, 'lock'), 'utf8').trim(), String(process.pid))
    } finally {
      b.release()
      c.release()
    }
  })

  test('a lock left by a dead process is taken over, and the slot keeps its id', () => {
    const stateDir = freshDir()
    const slot = join(stateDir, 'worker-0')
    mkdirSync(slot, { recursive: true })
    const id = '6f1c2b9e-3d4a-4c5b-8e7f-0a1b2c3d4e5f'
    writeFileSync(join(slot, 'worker-id'), `${id}\n`)
    writeFileSync(join(slot, 'lock'), String(DEAD_PID))
    const identity = claimIdentity(stateDir)
    try {
      assert.equal(identity.dir, slot)
      assert.equal(identity.id, id, 'a SIGKILLed worker comes back as itself')
      assert.equal(readFileSync(join(slot, 'lock'), 'utf8').trim(), String(process.pid))
    } finally {
      identity.release()
    }
  })

  test('a lock naming this pid that this process did not take is stale (a container restarted with the same pid)', () => {
    // In a container the worker is pid 1 on every start: a SIGKILLed worker's lock names the pid of
    // its successor, and only the slots this process claimed itself are really held by it.
    const stateDir = freshDir()
    const slot = join(stateDir, 'worker-0')
    mkdirSync(slot, { recursive: true })
    const id = '0b7e4c1a-9f2d-4e3b-a5c6-7d8e9f0a1b2c'
    writeFileSync(join(slot, 'worker-id'), `${id}\n`)
    writeFileSync(join(slot, 'lock'), String(process.pid))
    const identity = claimIdentity(stateDir)
    try {
      assert.equal(identity.dir, slot, 'the slot of the previous incarnation is taken back')
      assert.equal(identity.id, id)
    } finally {
      identity.release()
    }
  })

  test('a slot locked by another live process is skipped', () => {
    const stateDir = freshDir()
    const slot = join(stateDir, 'worker-0')
    mkdirSync(slot, { recursive: true })
    writeFileSync(join(slot, 'lock'), String(process.ppid)) // our parent: alive, and not us
    const identity = claimIdentity(stateDir)
    try {
      assert.equal(identity.dir, join(stateDir, 'worker-1'))
      assert.equal(
        readFileSync(join(slot, 'lock'), 'utf8').trim(),
        String(process.ppid),
        'its lock is left alone',
      )
    } finally {
      identity.release()
    }
  })

  test('a garbage worker-id file is replaced by a fresh UUID', () => {
    const stateDir = freshDir()
    const slot = join(stateDir, 'worker-0')
    mkdirSync(slot, { recursive: true })
    writeFileSync(join(slot, 'worker-id'), 'not a uuid at all\n')
    const identity = claimIdentity(stateDir)
    try {
      assert.match(identity.id, UUID)
      assert.equal(readFileSync(join(slot, 'worker-id'), 'utf8').trim(), identity.id)
    } finally {
      identity.release()
    }
  })

  test('a state directory that cannot be created gives an error naming it', () => {
    const root = freshDir()
    mkdirSync(root, { recursive: true })
    const file = join(root, 'a-file')
    writeFileSync(file, 'not a directory')
    const stateDir = join(file, 'state')
    assert.throws(
      () => claimIdentity(stateDir),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'INVALID_ARGUMENT')
        assert.ok(error.message.includes(`The state directory ${stateDir} cannot be created`), error.message)
        return true
      },
    )
  })
})
