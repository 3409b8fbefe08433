/**
 * The Kafka Streams peer (bench/peers/kafka-streams): built with `mvn -q package` when its jar is
 * missing or older than its sources, then run as one `java -jar` for the whole bench and told over
 * stdin to start and stop one application per run, each with a fresh application id.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { PeerProcess } from './peer-process.js'
import type { Started } from './rounds.js'

const project = join(import.meta.dirname, '..', 'peers', 'kafka-streams')
const jar = join(project, 'target', 'kafka-streams-peer.jar')

function newest(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))))
}

/** Builds the peer unless its jar is newer than pom.xml and every file under src/. */
export function buildKafkaStreamsPeer(): string {
  const sources = Math.max(newest(join(project, 'pom.xml')), newest(join(project, 'src')))
  if (existsSync(jar) && statSync(jar).mtimeMs > sources) return jar
  console.error('Building the Kafka Streams peer (mvn -q package)...')
  const mvn = spawnSync('mvn', ['-q', '-B', 'package'], { cwd: project, stdio: 'inherit' })
  if (mvn.error) throw new Error(`Could not run Maven (mvn) in ${project}: ${mvn.error.message}`)
  if (mvn.status !== 0) throw new Error(`Maven failed (exit ${mvn.status}) building ${project}; see above`)
  return jar
}

export class KafkaStreamsPeer {
  readonly #jvm: PeerProcess

  private constructor(jvm: PeerProcess) {
    this.#jvm = jvm
  }

  /** Builds if needed, starts the JVM and waits for its `ready`. */
  static async open(bootstrap: string, streamThreads: number): Promise<KafkaStreamsPeer> {
    const path = buildKafkaStreamsPeer()
    const jvm = new PeerProcess('kafka-streams', 'java', [
      '-Xmx1g',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-jar',
      path,
      bootstrap,
      String(streamThreads),
    ])
    await jvm.next((line) => line === 'ready')
    return new KafkaStreamsPeer(jvm)
  }

  /**
   * Starts application `appId` from `input` to `output`. `running` rejects if the application
   * fails (its uncaught exception handler) or the JVM exits; it settles once stopped.
   */
  start(appId: string, input: string, output: string): Started {
    return this.#launch(appId, `start ${appId} ${input} ${output}`)
  }

  /**
   * Starts application `appId` counting the records of `input` per key (`groupByKey().count()`)
   * into the store "counts", in memory or in RocksDB, under the guarantee.
   */
  count(
    appId: string,
    input: string,
    guarantee: 'at_least_once' | 'exactly_once',
    store: 'memory' | 'rocksdb',
  ): Started {
    return this.#launch(appId, `count ${appId} ${input} ${guarantee} ${store}`)
  }

  #launch(appId: string, command: string): Started {
    const failed = this.#jvm.next((line) => line.startsWith(`failed ${appId} `) || line.startsWith('error '))
    let stopped = false
    const running = failed.then((line) => {
      if (!stopped) throw new Error(`Kafka Streams ${appId}: ${line}`)
    })
    this.#jvm.send(command)
    return {
      running,
      stop: async () => {
        stopped = true
        await this.#jvm.ask(`stop ${appId}`, (line) => line === `stopped ${appId}`)
      },
    }
  }

  cpuSeconds(): number {
    return this.#jvm.cpuSeconds()
  }

  close(): Promise<void> {
    return this.#jvm.close()
  }
}
