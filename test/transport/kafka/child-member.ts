/** Drives a group member running in its own process (fixtures/member.ts), for freeze and crash tests. */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { BROKER } from './helpers.js'

export interface MemberEvent {
  event: string
  partitions?: number[]
  generation?: number
  ok?: boolean
  code?: string
}

export class ChildMember {
  readonly events: MemberEvent[] = []
  readonly #child: ChildProcess
  #output = ''
  #exited = false

  constructor(env: {
    topic: string
    groupId: string
    instanceId?: string
    sessionTimeoutMs: number
    broker?: string
  }) {
    const script = fileURLToPath(new URL('./fixtures/member.ts', import.meta.url))
    this.#child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        TRIBUTARY_TEST_BROKER: env.broker ?? BROKER,
        MEMBER_TOPIC: env.topic,
        MEMBER_GROUP: env.groupId,
        MEMBER_INSTANCE: env.instanceId ?? '',
        MEMBER_SESSION_MS: String(env.sessionTimeoutMs),
      },
    })
    let partial = ''
    this.#child.stdout!.on('data', (chunk: Buffer) => {
      partial += chunk.toString()
      const lines = partial.split('\n')
      partial = lines.pop()!
      for (const line of lines) if (line.trim()) this.events.push(JSON.parse(line) as MemberEvent)
    })
    this.#child.stderr!.on('data', (chunk: Buffer) => (this.#output += chunk.toString()))
    this.#child.on('exit', () => (this.#exited = true))
  }

  /** Waits until an event matches (polling the list the child fills), failing with what it said. */
  async until(
    what: string,
    match: (event: MemberEvent) => boolean,
    timeoutMs = 30_000,
  ): Promise<MemberEvent> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.events.find(match)
      if (found) return found
      if (this.#exited || Date.now() > deadline)
        throw new Error(
          `member never reported ${what}; events ${JSON.stringify(this.events)}; stderr ${this.#output}`,
        )
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  /** The partitions it owns now, from its callbacks. */
  owned(): number[] {
    const owned = new Set<number>()
    for (const e of this.events) {
      if (e.event === 'assigned') for (const p of e.partitions!) owned.add(p)
      if (e.event === 'revoked' || e.event === 'lost') for (const p of e.partitions!) owned.delete(p)
    }
    return [...owned].sort((a, b) => a - b)
  }

  send(command: Record<string, unknown>): void {
    this.#child.stdin!.write(`${JSON.stringify(command)}\n`)
  }

  signal(name: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): void {
    this.#child.kill(name)
  }

  /** Kills it if it still runs (also after a SIGSTOP) and waits for its exit. */
  async kill(): Promise<void> {
    if (this.#exited) return
    const exited = new Promise((resolve) => this.#child.once('exit', resolve))
    this.#child.kill('SIGKILL')
    await exited
  }
}
