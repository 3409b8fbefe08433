/** Partitions grouped by topic: for requests that list topics with their partitions, and for messages. */
import type { TopicPartition } from './types.js'

/** The items of each topic, topics in first-seen order, items in the order given. */
export function byTopic<T extends TopicPartition>(items: readonly T[]): Map<string, T[]> {
  const topics = new Map<string, T[]>()
  for (const item of items) {
    const list = topics.get(item.topic)
    if (list) list.push(item)
    else topics.set(item.topic, [item])
  }
  return topics
}

/** Topics sorted by name, each with its partition numbers in ascending order. */
export function partitionsByTopic(partitions: readonly TopicPartition[]): Array<[string, number[]]> {
  return [...byTopic(partitions)]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topic, list]) => [topic, list.map((tp) => tp.partition).sort((a, b) => a - b)])
}
