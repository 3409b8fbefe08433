/** Admin operations on consumer groups: listing, describing (members and assignments), committed offsets. */
import type { Admin as PltAdmin } from '@platformatic/kafka'
import { TributaryError } from '../../errors.js'
import type { GroupDescription, GroupListing, TopicPartition, TopicPartitionOffset } from '../types.js'
import { byTopic, partitionsByTopic } from '../by-topic.js'
import {
  groupNotEmpty,
  heldByTransaction,
  subscribedTopics,
  UNSTABLE_OFFSETS_WAIT_MS,
} from '../group/refusals.js'
import { protocolIds } from './errors.js'
import type { Link } from './link.js'

/** Kafka's group state names; platformatic upper-cases what the broker sends. */
const GROUP_STATES: Record<string, string> = {
  EMPTY: 'Empty',
  STABLE: 'Stable',
  PREPARINGREBALANCE: 'PreparingRebalance',
  COMPLETINGREBALANCE: 'CompletingRebalance',
  DEAD: 'Dead',
  ASSIGNING: 'Assigning',
  RECONCILING: 'Reconciling',
}

function groupState(state: string): string {
  return GROUP_STATES[state.replaceAll('_', '').toUpperCase()] ?? state
}

const byTopicPartition = (a: TopicPartition, b: TopicPartition): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition

/** Consumer groups of both protocols (classic, and KIP-848 consumer groups made by other clients). */
export async function listGroups(client: PltAdmin, link: Link): Promise<GroupListing[]> {
  const groups = await link.run('list groups', () => client.listGroups({ types: ['classic', 'consumer'] }))
  return [...groups.values()]
    .map((g) => ({ groupId: g.id, state: groupState(g.state) }))
    .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
}

export async function describeGroup(
  client: PltAdmin,
  link: Link,
  groupId: string,
): Promise<GroupDescription> {
  const groups = await link.run(
    `describe group "${groupId}"`,
    () => client.describeGroups({ groups: [groupId] }),
    {
      group: groupId,
    },
  )
  const group = groups.get(groupId)
  const state = group ? groupState(group.state) : 'Dead'
  // DescribeGroups answers a group it never heard of as Dead with no member.
  if (!group || (state === 'Dead' && group.members.size === 0)) {
    throw new TributaryError('UNKNOWN_GROUP', `Could not describe group "${groupId}": it does not exist`)
  }
  const members = [...group.members.values()].map((m) => ({
    memberId: m.id,
    clientId: m.clientId,
    host: m.clientHost,
    assignment: [...(m.assignments?.values() ?? [])]
      .flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })))
      .sort(byTopicPartition),
  }))
  return { groupId, state, assignor: group.protocol ?? '', members }
}

/** Lists the live members (a refusal names them) or answers that the group is empty or unknown. */
async function liveMembers(
  client: PltAdmin,
  link: Link,
  groupId: string,
): Promise<GroupDescription | undefined> {
  try {
    const group = await describeGroup(client, link, groupId)
    return group.members.length > 0 ? group : undefined
  } catch (error) {
    if (error instanceof TributaryError && error.code === 'UNKNOWN_GROUP') return undefined
    throw error
  }
}

export async function alterGroupOffsets(
  client: PltAdmin,
  link: Link,
  groupId: string,
  offsets: readonly TopicPartitionOffset[],
): Promise<void> {
  const action = `commit offsets for group "${groupId}"`
  const live = await liveMembers(client, link, groupId)
  if (live) throw groupNotEmpty(live, action)
  try {
    await link.run(
      action,
      () =>
        client.alterConsumerGroupOffsets({
          groupId,
          topics: [...byTopic(offsets)].map(([name, list]) => ({
            name,
            partitionOffsets: list.map((o) => ({ partition: o.partition, offset: BigInt(o.offset) })),
          })),
        }),
      { group: groupId },
    )
  } catch (error) {
    // A member joined between the check and the commit: the coordinator refuses a commit from outside.
    if (error instanceof TributaryError && error.code === 'REBALANCE') {
      const joined = await liveMembers(client, link, groupId)
      if (joined) throw groupNotEmpty(joined, action)
    }
    throw error
  }
}

export async function deleteGroupOffsets(
  client: PltAdmin,
  link: Link,
  groupId: string,
  partitions: readonly TopicPartition[],
): Promise<void> {
  const topics = partitionsByTopic(partitions)
  const action = `delete offsets of group "${groupId}"`
  try {
    await link.run(
      action,
      () =>
        client.deleteConsumerGroupOffsets({
          groupId,
          topics: topics.map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
        }),
      { group: groupId },
    )
  } catch (error) {
    if (error instanceof TributaryError && error.code === 'GROUP_NOT_EMPTY') {
      const live = await liveMembers(client, link, groupId)
      throw subscribedTopics(
        action,
        topics.map(([topic]) => topic),
        live && { members: live.members.length, state: live.state },
        error,
      )
    }
    throw error
  }
}

/**
 * Read stable: offsets of a transaction that is still open are waited for (UNSTABLE_OFFSET_COMMIT).
 * A worker killed mid-transaction holds them until the broker aborts its transaction (its timeout)
 * or its successor fences it; that is ridden through up to `unstableWaitMs`. Not stable: the
 * offsets committed so far, at once.
 */
export async function listGroupOffsets(
  client: PltAdmin,
  link: Link,
  groupId: string,
  stable = true,
  unstableWaitMs = UNSTABLE_OFFSETS_WAIT_MS,
): Promise<TopicPartitionOffset[]> {
  const action = `list offsets of group "${groupId}"`
  const deadline = Date.now() + unstableWaitMs
  let groups
  for (;;) {
    try {
      groups = await link.run(
        action,
        () => client.listConsumerGroupOffsets({ groups: [groupId], requireStable: stable }),
        { group: groupId },
      )
      break
    } catch (error) {
      if (!protocolIds(error).includes('UNSTABLE_OFFSET_COMMIT')) throw error
      if (Date.now() >= deadline) throw heldByTransaction(action, unstableWaitMs, error)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  const offsets: TopicPartitionOffset[] = []
  for (const group of groups) {
    for (const topic of group.topics) {
      for (const p of topic.partitions) {
        if (p.committedOffset >= 0n)
          offsets.push({ topic: topic.name, partition: p.partitionIndex, offset: Number(p.committedOffset) })
      }
    }
  }
  return offsets.sort(byTopicPartition)
}
