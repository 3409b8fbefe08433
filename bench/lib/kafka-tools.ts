/**
 * Kafka's own ProducerPerformance and ConsumerPerformance (the kafka-tools jar) as the JVM baseline,
 * run by bench/peers/kafka-tools/WarmTools.java: one JVM for the whole bench, so its JIT warms in
 * the discarded round like the Node.js clients do. The tools' own figures are only logged; the
 * bench's clock stops by the same broker-side observation as for every other subject.
 */
import { join } from 'node:path'
import { fetchJars, kafkaHome } from '../../scripts/kafka/broker.js'
import { PeerProcess } from './peer-process.js'
import type { Started } from './rounds.js'

const source = join(import.meta.dirname, '..', 'peers', 'kafka-tools', 'WarmTools.java')

export interface ProducerPerfOptions {
  topic: string
  records: number
  valueBytes: number
  /** Producer configs, e.g. acks, batch.size, max.in.flight.requests.per.connection. */
  props: Record<string, string | number>
}

export class KafkaTools {
  readonly #jvm: PeerProcess
  readonly #bootstrap: string

  private constructor(jvm: PeerProcess, bootstrap: string) {
    this.#jvm = jvm
    this.#bootstrap = bootstrap
  }

  static async open(bootstrap: string): Promise<KafkaTools> {
    const lib = fetchJars()
    const jvm = new PeerProcess('kafka-tools', 'java', [
      '-Xmx1g',
      `-Dlog4j2.configurationFile=${join(import.meta.dirname, '..', '..', 'scripts', 'kafka', 'log4j2.properties')}`,
      `-Dkafka.logs.dir=${join(kafkaHome(), 'logs')}`,
      '-cp',
      `${lib}/*`,
      source,
    ])
    await jvm.next((line) => line === '@@ready')
    return new KafkaTools(jvm, bootstrap)
  }

  /** One tool run; `running` resolves with the tool's last output lines when its main returns. */
  #run(main: string, args: string[]): Started {
    const running = this.#jvm
      .ask([main, ...args].join(' '), (l) => l.startsWith('@@'))
      .then((line) => {
        if (line !== '@@done') throw new Error(`${main}: ${line.slice(2)}\n${this.#jvm.recent().join('\n')}`)
        return this.#jvm.recent()
      })
    return {
      running,
      stop: async () => {
        await running
      },
    }
  }

  producerPerformance(options: ProducerPerfOptions): Started {
    const props = Object.entries({ 'bootstrap.servers': this.#bootstrap, ...options.props }).map(
      ([k, v]) => `${k}=${v}`,
    )
    return this.#run('org.apache.kafka.tools.ProducerPerformance', [
      '--topic',
      options.topic,
      '--num-records',
      String(options.records),
      '--record-size',
      String(options.valueBytes),
      '--throughput',
      '-1',
      '--producer-props',
      ...props,
    ])
  }

  /** In group mode (it always subscribes); it commits what it read when it closes (auto-commit). */
  consumerPerformance(topic: string, records: number, group: string): Started {
    return this.#run('org.apache.kafka.tools.ConsumerPerformance', [
      '--bootstrap-server',
      this.#bootstrap,
      '--topic',
      topic,
      '--messages',
      String(records),
      '--group',
      group,
      '--timeout',
      '60000',
    ])
  }

  cpuSeconds(): number {
    return this.#jvm.cpuSeconds()
  }

  close(): Promise<void> {
    return this.#jvm.close()
  }
}
