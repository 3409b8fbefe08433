/**
 * A worker's identity: a UUID persisted in its slot of the app's state directory, so a restarted
 * worker is the same worker (containers give every process pid 1, so a pid names nothing). It
 * names the worker in the group and, under exactly-once, its transactional id.
 *
 * Several worker processes of one app may share a machine and a state directory: each claims the
 * first free slot (`worker-0`, `worker-1`, ...) with a lock file holding its pid. A slot whose lock
 * names a dead process, or this pid without this process having claimed it (a restarted container,
 * where every start is pid 1), is free again: a SIGKILLed worker comes back as itself. Slots locked
 * by a live process, or claimed by this one already (several workers in one process), are skipped.
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TributaryError } from '../errors.js'

export interface WorkerIdentity {
  /** The persisted UUID of this slot. */
  readonly id: string
  /** The slot's directory: this worker's own state lives here. */
  readonly dir: string
  release(): void
}

/** Slots claimed by this process (pids cannot tell two workers of one process apart). */
const claimed = new Set<string>()
const MAX_SLOTS = 1024

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function tryLock(lock: string): boolean {
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' })
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const holder = Number(readFileSync(lock, 'utf8').trim())
  // Our own pid in a lock we did not take (claimed slots are skipped before this) is a previous
  // life of this container: every start has pid 1, so the lock is stale, not ours.
  if (holder !== process.pid && alive(holder)) return false
  // A stale lock of a process that died without releasing it: take it over.
  rmSync(lock, { force: true })
  return tryLock(lock)
}

/** Claims a slot of `stateDir` and returns its persisted id (created on first use). */
export function claimIdentity(stateDir: string): WorkerIdentity {
  try {
    mkdirSync(stateDir, { recursive: true })
  } catch (error) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `The state directory ${stateDir} cannot be created: ${String(error)}`,
      {
        cause: error,
      },
    )
  }
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const dir = join(stateDir, `worker-${slot}`)
    if (claimed.has(dir)) continue
    mkdirSync(dir, { recursive: true })
    const lock = join(dir, 'lock')
    if (!tryLock(lock)) continue
    claimed.add(dir)
    const file = join(dir, 'worker-id')
    let id: string
    try {
      id = readFileSync(file, 'utf8').trim()
    } catch {
      id = ''
    }
    if (!/^[0-9a-f-]{36}$/.test(id)) {
      id = randomUUID()
      writeFileSync(file, `${id}\n`)
    }
    let released = false
    return {
      id,
      dir,
      release: () => {
        if (released) return
        released = true
        claimed.delete(dir)
        rmSync(lock, { force: true })
      },
    }
  }
  throw new TributaryError(
    'INVALID_ARGUMENT',
    `All ${MAX_SLOTS} worker slots of ${stateDir} are taken by live workers`,
  )
}
