/** Checks done before producing or consuming: the topics exist, the partition is in range. */
import { TributaryError } from '../errors.js'
import type { Admin, TopicDescription } from '../transport/types.js'
import { withDeadline } from './broker.js'

/** The admin round trip that every client command starts with, under the --timeout safety net. */
export async function describeExisting(
  admin: Admin,
  topics: string[],
  timeoutMs: number,
  broker: string,
): Promise<TopicDescription[]> {
  let descriptions: TopicDescription[]
  try {
    descriptions = await withDeadline(admin.describeTopics(topics), timeoutMs, broker)
  } catch (error) {
    if (error instanceof TributaryError && error.code === 'UNKNOWN_TOPIC')
      throw unknownTopic(error.topic ?? topics, error)
    throw error
  }
  for (const topic of topics) {
    const found = descriptions.find((d) => d.topic === topic)
    if (found === undefined || found.partitions.length === 0) throw unknownTopic(topic)
  }
  return descriptions
}

function unknownTopic(topic: string | string[], cause?: unknown): TributaryError {
  const names = typeof topic === 'string' ? [topic] : topic
  const one =
    names.length === 1
      ? `Topic "${names[0]}" does not exist`
      : `One of the topics ${names.join(', ')} does not exist`
  return new TributaryError(
    'UNKNOWN_TOPIC',
    `${one} (tributary topics list shows the topics; topics create makes one)`,
    {
      topic: names[0],
      cause,
    },
  )
}

export function checkPartition(description: TopicDescription, partition: number): void {
  const count = description.partitions.length
  if (partition >= count) {
    throw new TributaryError(
      'INVALID_PARTITIONS',
      `Topic "${description.topic}" has ${count} partition${count === 1 ? '' : 's'} (0..${count - 1}); there is no partition ${partition}`,
      { topic: description.topic, partition },
    )
  }
}
