/** Groups the partitions ready to fetch into one Fetch request per leader broker. */
import type { ClusterMetadata, fetchV17 } from '@platformatic/kafka'
import type { Watermarks } from '../types.js'
import type { Owner } from './buffer.js'
import { FETCH_PARTITION_MAX_BYTES } from './options.js'

export type FetchRequestTopic = fetchV17.FetchRequestTopic

/** A fetched partition's position. */
export interface PartitionState extends Owner {
  readonly topic: string
  readonly partition: number
  /** The next offset to fetch. */
  offset: number
  /** Bumped by a seek or a removal: data fetched under an older epoch is dropped. */
  epoch: number
  /** In a fetch request, or being reset: not fetched again until that ends. */
  busy: boolean
  retryAt: number
  /** What the latest fetch response said of the partition. */
  watermarks: Watermarks | undefined
}

export interface PlannedFetch {
  node: number
  states: PartitionState[]
  topics: FetchRequestTopic[]
  /** Topic name by topic id: Fetch v13+ answers with ids. */
  names: Map<string, string>
}

/**
 * One request per leader of the partitions given, skipping leaderless partitions and `busy`
 * brokers. Epochs are left at -1 (no leader-epoch fencing): offsets come from our own positions.
 */
export function planFetches(
  states: PartitionState[],
  metadata: ClusterMetadata,
  busy: (node: number) => boolean,
): PlannedFetch[] {
  const plans = new Map<number, PlannedFetch>()
  for (const state of states) {
    const topic = metadata.topics.get(state.topic)
    const leader = topic?.partitions[state.partition]?.leader ?? -1
    if (!topic || leader < 0 || busy(leader)) continue
    let plan = plans.get(leader)
    if (!plan) plans.set(leader, (plan = { node: leader, states: [], topics: [], names: new Map() }))
    plan.states.push(state)
    let request = plan.topics.find((t) => t.topicId === topic.id)
    if (!request) {
      plan.topics.push((request = { topicId: topic.id, partitions: [] }))
      plan.names.set(topic.id, state.topic)
    }
    request.partitions.push({
      partition: state.partition,
      fetchOffset: BigInt(state.offset),
      partitionMaxBytes: FETCH_PARTITION_MAX_BYTES,
      currentLeaderEpoch: -1,
      lastFetchedEpoch: -1,
    })
  }
  return [...plans.values()]
}
