/**
 * A long-lived child process spoken to in lines over stdin/stdout: a JVM peer, so that one warm JVM
 * serves every round of a bench (its JIT warms in the discarded round, as the Node.js subjects' does
 * in this process), or the bench's observer. Lines that no waiter takes are kept as the peer's
 * recent output, for error messages; `onLine` sees every line.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

/** Linux's USER_HZ, the unit of /proc/<pid>/stat times (`getconf CLK_TCK`), 100 on every mainstream kernel. */
const CLOCK_TICKS = 100

interface Waiter {
  match: (line: string) => boolean
  resolve: (line: string) => void
  reject: (error: Error) => void
}

export class PeerProcess {
  readonly #child: ChildProcessWithoutNullStreams
  readonly #label: string
  readonly #waiters = new Set<Waiter>()
  readonly #recent: string[] = []
  #exited: Error | undefined

  /** Called with every stdout line, before the waiters. */
  onLine: ((line: string) => void) | undefined

  constructor(label: string, command: string, args: string[]) {
    this.#label = label
    this.#child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    const keep = (line: string): void => {
      this.#recent.push(line)
      if (this.#recent.length > 40) this.#recent.shift()
    }
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      this.onLine?.(line)
      for (const w of this.#waiters)
        if (w.match(line)) {
          this.#waiters.delete(w)
          w.resolve(line)
        }
      keep(line)
    })
    // The peers log warnings and errors only: show them, a peer that complains is worth seeing.
    createInterface({ input: this.#child.stderr }).on('line', (line) => {
      keep(line)
      process.stderr.write(`  [${label}] ${line}\n`)
    })
    const exit = (why: string): void => {
      this.#exited = new Error(`${label} ${why}; its last lines:\n${this.#recent.join('\n')}`)
      for (const w of this.#waiters) w.reject(this.#exited)
      this.#waiters.clear()
    }
    this.#child.on('error', (error) => exit(`could not run ${command}: ${error.message}`))
    this.#child.on('exit', (code, signal) => exit(`exited (${signal ?? code})`))
  }

  /** CPU seconds (user + system, all threads) the process has used, from /proc (Linux). */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.#child.pid}/stat`, 'utf8')
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15, in ticks.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  }

  /** The peer's recent output lines, oldest first. */
  recent(): string[] {
    return [...this.#recent]
  }

  send(line: string): void {
    if (this.#exited) throw this.#exited
    this.#child.stdin.write(`${line}\n`)
  }

  /** The next line from now on that matches; rejects if the process exits first. */
  next(match: (line: string) => boolean): Promise<string> {
    if (this.#exited) return Promise.reject(this.#exited)
    return new Promise((resolve, reject) => this.#waiters.add({ match, resolve, reject }))
  }

  /** Sends `line` and resolves with the first reply that matches. */
  async ask(line: string, match: (line: string) => boolean): Promise<string> {
    const reply = this.next(match)
    this.send(line)
    return reply
  }

  /** Asks the peer to quit (it ends what it still runs); kills it if it has not within 30 s. */
  async close(quit = 'quit'): Promise<void> {
    if (this.#exited) return
    const gone = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()))
    this.#child.stdin.end(`${quit}\n`)
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 30_000)
    await gone
    clearTimeout(timer)
  }

  get label(): string {
    return this.#label
  }
}
