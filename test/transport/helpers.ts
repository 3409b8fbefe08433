/** Small helpers shared by the transport tests. */
import type { ConsumedRecord, Consumer, TopicPartition, Transport } from '../../src/transport/types.js'

/** Polls until `done(all records so far)` holds; fails after `timeoutMs` with what arrived. */
export async function pollUntil(
  consumer: Consumer,
  done: (records: ConsumedRecord[]) => boolean,
  timeoutMs = 30_000,
): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = []
  const deadline = Date.now() + timeoutMs
  while (!done(records)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms with ${records.length} records: ${describe(records)}`)
    }
    records.push(...(await consumer.poll({ timeoutMs: 200 })))
  }
  return records
}

function describe(records: ConsumedRecord[]): string {
  return records
    .slice(0, 20)
    .map((r) => `${tpKey(r)}@${r.offset}`)
    .join(' ')
}

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}[${tp.partition}]`
}

export function rangeOf(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}

/** Reads every partition of a topic from the start, with no group, until `count` records came. */
export async function readRecords(
  transport: Transport,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ConsumedRecord[]> {
  const consumer = transport.consumer()
  const [described] = await transport.admin().describeTopics([topic])
  await consumer.assign(
    described!.partitions.map((p) => ({ topic, partition: p.partition, from: 'earliest' as const })),
  )
  try {
    return await pollUntil(consumer, (all) => all.length >= count, timeoutMs)
  } finally {
    await consumer.close()
  }
}
