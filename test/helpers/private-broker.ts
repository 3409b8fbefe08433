/**
 * A Kafka broker of a test's own (scripts/kafka/broker.ts in a temporary home, on free ports), for
 * fault tests that stop or kill it: the shared test broker is never touched. The jars are copied
 * once per machine into a cache beside the temporary homes.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const script = join(repo, 'scripts', 'kafka', 'broker.ts')

function canBind(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer()
    server.once('error', () => done(false))
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)))
  })
}

/** A port p such that p, p+1 (SASL) and p+2 (controller) are free now. */
async function freePorts(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    if ((await canBind(port)) && (await canBind(port + 1)) && (await canBind(port + 2))) return port
  }
  throw new Error('no three consecutive free ports found')
}

function run(home: string, port: number, command: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, command], {
      cwd: repo,
      env: {
        ...process.env,
        TRIBUTARY_KAFKA_HOME: home,
        TRIBUTARY_KAFKA_PORT: String(port),
        // A test broker needs no peak speed: the quick compiler and one processor's worth of JVM
        // threads start it in half the time and leave the CPU to the tests running beside it.
        ...(command === 'start'
          ? { JAVA_TOOL_OPTIONS: '-XX:TieredStopAtLevel=1 -XX:ActiveProcessorCount=1' }
          : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('exit', (code) =>
      code === 0 ? done(output) : fail(new Error(`broker.ts ${command} exited ${code}: ${output}`)),
    )
  })
}

/** The broker's jars, fetched once into a cache shared by private brokers (a rename makes it whole at once). */
async function cachedJars(): Promise<string> {
  const cache = join(tmpdir(), 'tributary-kafka-jars')
  if (existsSync(join(cache, 'lib'))) return join(cache, 'lib')
  const staging = mkdtempSync(join(tmpdir(), 'tributary-kafka-jars-'))
  await run(staging, 19_000, 'fetch')
  mkdirSync(cache, { recursive: true })
  try {
    renameSync(join(staging, 'lib'), join(cache, 'lib'))
  } catch {
    // Another run got there first: its copy is as good.
  }
  rmSync(staging, { recursive: true, force: true })
  return join(cache, 'lib')
}

export class PrivateBroker {
  readonly home = mkdtempSync(join(tmpdir(), 'tributary-kafka-'))
  port = 0

  get url(): string {
    return `kafka://127.0.0.1:${this.port}`
  }

  /** Starts it (the first time on new free ports) and resolves once it answers. */
  async start(): Promise<void> {
    if (this.port === 0) {
      this.port = await freePorts()
      symlinkSync(await cachedJars(), join(this.home, 'lib'))
    }
    try {
      await run(this.home, this.port, 'start')
    } catch (error) {
      // The broker's own words, before remove() deletes its home.
      const tail = (file: string): string => {
        const path = join(this.home, 'logs', file)
        return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-25).join('\n') : '(none)'
      }
      throw new Error(
        `${String(error)}\n--- stdout.log:\n${tail('stdout.log')}\n--- server.log:\n${tail('server.log')}`,
        {
          cause: error,
        },
      )
    }
  }

  /** A graceful stop (SIGTERM: the broker closes its logs and connections), until it exited. */
  async stop(): Promise<void> {
    await run(this.home, this.port, 'stop')
  }

  /** SIGKILL: the process dies at once, as in a crash; its data directory stays. */
  async kill(): Promise<void> {
    const pid = this.#pid()
    if (pid === undefined) return
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      return
    }
    while (this.#alive(pid)) await new Promise((resolve) => setTimeout(resolve, 50))
  }

  /** Kills it if it runs and removes its home: safe to call in any state. */
  async remove(): Promise<void> {
    await this.kill().catch(() => undefined)
    rmSync(this.home, { recursive: true, force: true })
  }

  #pid(): number | undefined {
    const file = join(this.home, 'broker.json')
    if (!existsSync(file)) return undefined
    return (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid
  }

  #alive(pid: number): boolean {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
}
