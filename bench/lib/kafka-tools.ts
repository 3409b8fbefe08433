/** Runs Kafka's own ProducerPerformance and ConsumerPerformance (kafka-tools jar) as the JVM baseline. */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fetchJars, kafkaHome } from '../../scripts/kafka/broker.js'

export interface ToolResult {
  recordsPerSec: number
  mbPerSec: number
  output: string
}

function run(main: string, args: string[]): Promise<string> {
  fetchJars()
  const lib = join(kafkaHome(), 'lib')
  const logProps = `-Dlog4j2.configurationFile=${join(import.meta.dirname, '..', '..', 'scripts', 'kafka', 'log4j2.properties')}`
  return new Promise((resolve, reject) => {
    const child = spawn('java', [
      '-Xmx1g',
      logProps,
      `-Dkafka.logs.dir=${join(kafkaHome(), 'logs')}`,
      '-cp',
      `${lib}/*`,
      main,
      ...args,
    ])
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${main} exited ${code}:\n${output}`)),
    )
  })
}

/** `N records sent, X records/sec (Y MB/sec), ...` is the tool's closing line. */
export async function producerPerformance(
  bootstrap: string,
  topic: string,
  records: number,
  size: number,
): Promise<ToolResult> {
  const output = await run('org.apache.kafka.tools.ProducerPerformance', [
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--record-size',
    String(size),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${bootstrap}`,
    'acks=all',
    'linger.ms=5',
    'batch.size=65536',
  ])
  const line =
    output
      .trim()
      .split('\n')
      .filter((l) => l.includes('records sent'))
      .pop() ?? ''
  const match = /([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/.exec(line)
  if (!match) throw new Error(`Could not read ProducerPerformance output:\n${output}`)
  return { recordsPerSec: Number(match[1]), mbPerSec: Number(match[2]), output: line }
}

/** Its data line: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ... */
export async function consumerPerformance(
  bootstrap: string,
  topic: string,
  records: number,
): Promise<ToolResult> {
  const output = await run('org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    '--messages',
    String(records),
    '--timeout',
    '60000',
    '--group',
    `bench-perf-${Date.now()}`,
  ])
  const lines = output.trim().split('\n')
  const header = lines.findIndex((l) => l.startsWith('start.time'))
  const columns = lines[header]?.split(',').map((c) => c.trim()) ?? []
  const values = lines[header + 1]?.split(',').map((c) => c.trim()) ?? []
  const get = (name: string): number => Number(values[columns.indexOf(name)])
  const recordsPerSec = get('nMsg.sec')
  if (!Number.isFinite(recordsPerSec))
    throw new Error(`Could not read ConsumerPerformance output:\n${output}`)
  return { recordsPerSec, mbPerSec: get('MB.sec'), output: `${lines[header]}\n${lines[header + 1]}` }
}
