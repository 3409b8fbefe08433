/**
 * The user data the task assignor exchanges through the group protocol: what each member tells the
 * leader when it joins (SubscriptionInfo) and what the leader tells each member (its tasks and the
 * group's host map). Framing and versioning: see wire.ts.
 */
import type { TopicPartition } from '../../transport/types.js'
import { compareTaskIds, isTaskId } from './task-ids.js'
import type { SubscriptionInfo, TaskAssignment, TaskId } from './types.js'
import { frame, isCount, isRecord, isString, reader, unframe } from './wire.js'

/** The version this code writes; it reads every version >= 1. */
export const USER_DATA_VERSION = 1

const isTopicList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString)
const isPartitionList = (value: unknown): value is number[] => Array.isArray(value) && value.every(isCount)
const isHostEntry = (value: unknown): value is Record<string, number[]> =>
  isRecord(value) && Object.values(value).every(isPartitionList)

/** Maps keyed by task id refuse any other key: a garbage buffer could have anything there. */
const TASK_KEYS = { test: (name: string): boolean => isTaskId(name), expected: 'task ids' }

/** Encodes a member's subscription user data. */
export function encodeSubscription(info: SubscriptionInfo): Buffer {
  const { workerId, url, ownedTasks, taskOffsets } = info
  return frame(USER_DATA_VERSION, { workerId, url, ownedTasks, taskOffsets })
}

/**
 * Decodes a member's subscription user data; throws INVALID_ARGUMENT naming `what` (say, the
 * member id) when the bytes are not what encodeSubscription writes.
 */
export function decodeSubscription(data: Buffer, what = 'subscription user data'): SubscriptionInfo {
  const body = reader(what, unframe(what, data))
  return {
    workerId: body.string('workerId'),
    url: body.nullableString('url'),
    ownedTasks: body.array('ownedTasks', isTaskId, 'task ids'),
    taskOffsets: body.record('taskOffsets', isCount, 'offset sums (integers >= 0)', TASK_KEYS),
  }
}

/** One member's share, as the leader encodes it. */
export interface AssignmentInfo {
  /** Its tasks, each with its source partitions (all of one partition number). */
  readonly tasks: ReadonlyMap<TaskId, readonly TopicPartition[]>
  /** The whole group's host map: ops URL -> the source partitions of that member's tasks. */
  readonly hosts: ReadonlyMap<string, readonly TopicPartition[]>
  readonly workers: readonly string[]
  /** Its standby tasks. @default none */
  readonly standbys?: readonly TaskId[]
}

/** Encodes a member's assignment user data: a task's partitions as topic names (the partition is in its id). */
export function encodeAssignment(info: AssignmentInfo): Buffer {
  return assignmentEncoder(info.hosts, info.workers)(info.tasks, info.standbys)
}

/**
 * An encoder for every member of one generation: the host map and the worker list are the same in
 * each member's share, so they are turned into JSON once, not once per member.
 */
export function assignmentEncoder(
  hosts: AssignmentInfo['hosts'],
  workers: AssignmentInfo['workers'],
): (tasks: AssignmentInfo['tasks'], standbys?: readonly TaskId[]) => Buffer {
  const shared = JSON.stringify({
    hosts: Object.fromEntries([...hosts].map(([url, tps]) => [url, byTopic(tps)])),
    workers,
  }).slice(1)
  return (tasks, standbys = []) => {
    const wire = Object.fromEntries([...tasks].map(([id, tps]) => [id, tps.map((tp) => tp.topic)]))
    // Written only when there are some: a leader without standbys sends what version 1 always sent.
    const copies = standbys.length > 0 ? `"standbys":${JSON.stringify(standbys)},` : ''
    return Buffer.concat([
      Buffer.of(USER_DATA_VERSION),
      Buffer.from(`{"tasks":${JSON.stringify(wire)},${copies}${shared}`),
    ])
  }
}

/**
 * What the leader's plan gives this member. With `partitions` (what the transport actually assigned
 * in this generation), a planned task whose partitions are not all there is `pending`: its previous
 * owner still has to revoke it. Null user data (the leader gave this member nothing) is an empty
 * assignment; bytes that are not an assignment throw INVALID_ARGUMENT.
 */
export function decodeAssignment(
  data: Buffer | null,
  partitions?: readonly TopicPartition[],
): TaskAssignment {
  const what = 'assignment user data'
  const body = data === null ? reader(what, {}) : reader(what, unframe(what, data))
  const tasks = new Map<TaskId, TopicPartition[]>()
  const wire = body.record('tasks', isTopicList, 'topic lists', TASK_KEYS)
  for (const id of Object.keys(wire).sort(compareTaskIds)) {
    const partition = Number(id.slice(id.indexOf('_') + 1))
    tasks.set(
      id,
      wire[id]!.map((topic) => ({ topic, partition })),
    )
  }
  const hosts = new Map<string, TopicPartition[]>()
  for (const [url, topics] of Object.entries(body.record('hosts', isHostEntry, 'partitions by topic')))
    hosts.set(
      url,
      Object.entries(topics).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition }))),
    )
  // The reverse index is built on the first query: most members decode far more often than they route.
  let owner: Map<string, string> | undefined
  const hostOf = (topic: string, partition: number): string | undefined => {
    if (owner === undefined) {
      owner = new Map()
      for (const [url, list] of hosts) for (const tp of list) owner.set(`${tp.partition}:${tp.topic}`, url)
    }
    return owner.get(`${partition}:${topic}`)
  }
  const given = new Set(partitions?.map((tp) => `${tp.partition}:${tp.topic}`))
  const runs = (id: TaskId): boolean =>
    partitions === undefined || tasks.get(id)!.every((tp) => given.has(`${tp.partition}:${tp.topic}`))
  return {
    tasks,
    active: [...tasks.keys()].filter(runs),
    pending: [...tasks.keys()].filter((id) => !runs(id)),
    hosts,
    hostOf,
    workers: body.array('workers', isString, 'worker ids'),
    standbys: body.array('standbys', isTaskId, 'task ids'),
  }
}

/** `{ topic: [partitions] }`, the compact form of a partition list (partitions sorted). */
function byTopic(tps: readonly TopicPartition[]): Record<string, number[]> {
  // A Map, not an object literal: `__proto__` is a legal topic name.
  const out = new Map<string, number[]>()
  for (const tp of [...tps].sort((a, b) => a.partition - b.partition)) {
    const list = out.get(tp.topic)
    if (list) list.push(tp.partition)
    else out.set(tp.topic, [tp.partition])
  }
  return Object.fromEntries(out)
}
