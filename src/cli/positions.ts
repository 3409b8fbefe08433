/** Turns --from into a concrete offset per partition, so a consumer knows where it stands from the start. */
import type { Admin, TopicPartition, TopicPartitionOffset } from '../transport/types.js'
import type { From } from './args.js'

export function tpKey(tp: TopicPartition): string {
  // Kafka topic names are [a-zA-Z0-9._-], so "/" cannot be part of one.
  return `${tp.topic}/${tp.partition}`
}

function byTopic(partitions: TopicPartition[]): Map<string, number[]> {
  const topics = new Map<string, number[]>()
  for (const { topic, partition } of partitions) topics.set(topic, [...(topics.get(topic) ?? []), partition])
  return topics
}

async function offsetsOf(
  admin: Admin,
  topic: string,
  spec: 'earliest' | 'latest',
): Promise<Map<number, number>> {
  return new Map((await admin.listOffsets(topic, spec)).map((p) => [p.partition, p.offset]))
}

/** The log end offset of each partition now: what `--exit-at-end` has to reach. */
export async function endOffsets(admin: Admin, partitions: TopicPartition[]): Promise<Map<string, number>> {
  const ends = new Map<string, number>()
  for (const [topic, numbers] of byTopic(partitions)) {
    const latest = await offsetsOf(admin, topic, 'latest')
    for (const partition of numbers) ends.set(tpKey({ topic, partition }), latest.get(partition) ?? 0)
  }
  return ends
}

/**
 * The first offset to read in each partition. An offset outside the log is clamped to it (before the
 * start: the start; past the end: the end), and a time after the last record means the end.
 */
export async function resolveFrom(
  admin: Admin,
  partitions: TopicPartition[],
  from: From,
): Promise<TopicPartitionOffset[]> {
  const result: TopicPartitionOffset[] = []
  for (const [topic, numbers] of byTopic(partitions)) {
    const earliest = await offsetsOf(admin, topic, 'earliest')
    const latest = await offsetsOf(admin, topic, 'latest')
    const atTime =
      typeof from === 'object' && 'timestamp' in from
        ? new Map(
            (await admin.listOffsets(topic, { timestamp: from.timestamp })).map((p) => [
              p.partition,
              p.offset,
            ]),
          )
        : undefined
    for (const partition of numbers) {
      const start = earliest.get(partition) ?? 0
      const end = latest.get(partition) ?? 0
      let offset: number
      if (from === 'beginning') offset = start
      else if (from === 'end') offset = end
      else if ('offset' in from) offset = Math.min(Math.max(from.offset, start), end)
      else if ('last' in from) offset = Math.max(start, end - from.last)
      else {
        const found = atTime?.get(partition)
        offset = found === undefined || found < 0 ? end : found
      }
      result.push({ topic, partition, offset })
    }
  }
  return result
}
