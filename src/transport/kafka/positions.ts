/** Resolves where a consumer starts reading a partition: an offset, the ends of the log, a time, or the group's commit. */
import type { Consumer as PltConsumer } from '@platformatic/kafka'
import { TributaryError } from '../../errors.js'
import type { OffsetReset, StartOffset, TopicPartition, TopicPartitionOffset } from '../types.js'
import type { GroupCoordinator } from './coordinator.js'
import type { Link } from './link.js'

const key = (topic: string, partition: number): string => `${topic}:${partition}`

/** ListOffsets for these partitions at one timestamp (-2n earliest, -1n latest); -1 where none. */
export async function listOffsets(
  client: PltConsumer,
  link: Link,
  partitions: TopicPartition[],
  timestamp: bigint,
): Promise<Map<string, number>> {
  const byTopic: Record<string, number[]> = {}
  for (const { topic, partition } of partitions) (byTopic[topic] ??= []).push(partition)
  const topics = Object.keys(byTopic)
  const listed = await link.run(
    `list offsets of ${topics.join(', ')}`,
    () => client.listOffsets({ topics, partitions: byTopic, timestamp }),
    { topic: topics.length === 1 ? topics[0] : undefined },
  )
  const offsets = new Map<string, number>()
  for (const [topic, list] of listed) {
    for (const partition of byTopic[topic] ?? []) {
      const offset = list[partition]
      if (offset !== undefined) offsets.set(key(topic, partition), Number(offset))
    }
  }
  return offsets
}

/** Checks that every partition exists (UNKNOWN_TOPIC, INVALID_PARTITIONS otherwise). */
export async function checkPartitions(
  client: PltConsumer,
  link: Link,
  partitions: TopicPartition[],
): Promise<void> {
  const topics = [...new Set(partitions.map((p) => p.topic))]
  for (const topic of topics) {
    const metadata = await link.run(
      `read metadata of topic "${topic}"`,
      () => client.metadata({ topics: [topic] }),
      { topic },
    )
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0
    for (const p of partitions) {
      if (p.topic === topic && (!Number.isInteger(p.partition) || p.partition < 0 || p.partition >= count)) {
        throw new TributaryError(
          'INVALID_PARTITIONS',
          `Topic "${topic}" has ${count} partitions; ${p.partition} is not one of them`,
          {
            topic,
            partition: p.partition,
          },
        )
      }
    }
  }
}

export interface StartRequest extends TopicPartition {
  from: StartOffset
}

/**
 * The offset to start each partition at. 'committed' falls back to `offsetReset` where the group
 * has no commit; a time with no record at or after it starts at the end of the log.
 */
export async function startOffsets(
  client: PltConsumer,
  link: Link,
  requests: StartRequest[],
  coordinator: GroupCoordinator | undefined,
  offsetReset: OffsetReset,
): Promise<TopicPartitionOffset[]> {
  const result = new Map<string, number>()
  const pending = new Map<bigint, TopicPartition[]>()
  const ask = (timestamp: bigint, tp: TopicPartition): void => {
    const list = pending.get(timestamp)
    if (list) list.push(tp)
    else pending.set(timestamp, [tp])
  }
  const committedWanted = requests.filter((r) => r.from === 'committed')
  if (committedWanted.length > 0) {
    if (coordinator === undefined)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        "Starting from 'committed' needs a consumer with a groupId",
      )
    const groupId = coordinator.groupId
    const committed = await link.run(`read committed offsets of group "${groupId}"`, () =>
      coordinator.committed(committedWanted),
    )
    for (const r of committedWanted) {
      const offset = committed.get(key(r.topic, r.partition))
      if (offset !== undefined) result.set(key(r.topic, r.partition), offset)
      else if (offsetReset === 'none') {
        throw new TributaryError(
          'KAFKA',
          `Group "${groupId}" has no committed offset for ${r.topic}[${r.partition}] and offsetReset is 'none'`,
          {
            topic: r.topic,
            partition: r.partition,
          },
        )
      } else ask(offsetReset === 'earliest' ? -2n : -1n, r)
    }
  }
  for (const r of requests) {
    const { from } = r
    if (typeof from === 'number') {
      if (!Number.isInteger(from) || from < 0)
        throw new TributaryError(
          'INVALID_ARGUMENT',
          `Start offset must be a non-negative integer, got ${from}`,
        )
      result.set(key(r.topic, r.partition), from)
    } else if (from === 'earliest') ask(-2n, r)
    else if (from === 'latest') ask(-1n, r)
    else if (typeof from === 'object') ask(BigInt(from.timestamp), r)
    else if (from !== 'committed')
      throw new TributaryError('INVALID_ARGUMENT', `Unknown start offset ${JSON.stringify(from)}`)
  }
  let ends: Map<string, number> | undefined
  for (const [timestamp, partitions] of pending) {
    const offsets = await listOffsets(client, link, partitions, timestamp)
    for (const tp of partitions) {
      let offset = offsets.get(key(tp.topic, tp.partition)) ?? -1
      if (offset < 0) {
        ends ??= await listOffsets(client, link, requests, -1n)
        offset = ends.get(key(tp.topic, tp.partition)) ?? 0
      }
      result.set(key(tp.topic, tp.partition), offset)
    }
  }
  return requests.map(({ topic, partition }) => ({
    topic,
    partition,
    offset: result.get(key(topic, partition)) ?? 0,
  }))
}
