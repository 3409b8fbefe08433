/** Reads the first records of a topic (every partition from its start), for untimed output checks. */
import type { ConsumedRecord, Transport } from '../../src/transport/types.js'

export async function readSample(
  transport: Transport,
  topic: string,
  count: number,
): Promise<ConsumedRecord[]> {
  const [description] = await transport.admin().describeTopics([topic])
  const consumer = transport.consumer()
  try {
    await consumer.assign(
      (description?.partitions ?? []).map((p) => ({
        topic,
        partition: p.partition,
        from: 'earliest' as const,
      })),
    )
    const records: ConsumedRecord[] = []
    while (records.length < count) {
      const batch = await consumer.poll({ timeoutMs: 2_000, maxRecords: count - records.length })
      if (batch.length === 0) break
      records.push(...batch)
    }
    if (records.length === 0) throw new Error(`${topic} has no records to check`)
    return records
  } finally {
    await consumer.close()
  }
}
