/**
 * `tributary groups reset-offsets | delete-offsets`: moving and forgetting a consumer group's committed
 * offsets, the way `kafka-consumer-groups --reset-offsets` does: a plan first, applied with --execute.
 */
import type { Writable } from 'node:stream'
import { TributaryError } from '../../errors.js'
import type { Admin, GroupDescription, TopicPartition, TopicPartitionOffset } from '../../transport/types.js'
import { parseInteger, parseTime } from '../args.js'
import { formatTable, write } from '../output.js'
import { tpKey } from '../positions.js'

/** Where the reset moves each partition's committed offset. */
export type ResetTarget =
  | { to: 'earliest' }
  | { to: 'latest' }
  | { to: 'offset'; offset: number }
  | { to: 'datetime'; timestamp: number }
  | { to: 'shift'; by: number }

/** A `--topic` argument: a topic, with the partitions named after a colon or all of them. */
export interface TopicSelection {
  topic: string
  partitions?: number[]
}

export interface PlannedReset extends TopicPartitionOffset {
  /** The committed offset now; undefined when the group never committed this partition. */
  current: number | undefined
  logStart: number
  logEnd: number
  /** Why the new offset differs from what was asked (it fell outside the log). */
  note: string
}

export interface ResetPlan {
  groupId: string
  /** The group's live members, when it has any: --execute is refused while they are there. */
  live: GroupDescription | undefined
  partitions: PlannedReset[]
}

function invalid(message: string): TributaryError {
  return new TributaryError('INVALID_ARGUMENT', message)
}

/** `orders`, or `orders:0,2` for some partitions. */
export function parseTopicSelection(text: string): TopicSelection {
  const colon = text.lastIndexOf(':')
  if (colon < 0) {
    if (text.trim() === '') throw invalid('--topic needs a topic name')
    return { topic: text.trim() }
  }
  const topic = text.slice(0, colon).trim()
  if (topic === '') throw invalid(`--topic "${text}" has no topic name before ":"`)
  const partitions = text
    .slice(colon + 1)
    .split(',')
    .map((p) => parseInteger(p, `--topic ${topic}: partition`))
  return { topic, partitions: [...new Set(partitions)].sort((a, b) => a - b) }
}

const TARGET_FLAGS = ['--to-earliest', '--to-latest', '--to-offset', '--to-datetime', '--shift-by'] as const

/** Exactly one of the --to-... / --shift-by options. */
export function parseResetTarget(options: {
  toEarliest?: boolean
  toLatest?: boolean
  toOffset?: string
  toDatetime?: string
  shiftBy?: string
}): ResetTarget {
  const given: ResetTarget[] = []
  if (options.toEarliest) given.push({ to: 'earliest' })
  if (options.toLatest) given.push({ to: 'latest' })
  if (options.toOffset !== undefined)
    given.push({ to: 'offset', offset: parseInteger(options.toOffset, '--to-offset') })
  if (options.toDatetime !== undefined) {
    const timestamp = parseTime(options.toDatetime)
    if (timestamp === undefined)
      throw invalid(
        `--to-datetime "${options.toDatetime}" is not understood; use an ISO time (2024-05-01T12:00:00Z) or epoch milliseconds (@1714564800000)`,
      )
    given.push({ to: 'datetime', timestamp })
  }
  if (options.shiftBy !== undefined) {
    const by = /^\s*[-+]?\d+\s*$/.test(options.shiftBy) ? Number(options.shiftBy) : NaN
    if (!Number.isSafeInteger(by))
      throw invalid(`--shift-by must be an integer (e.g. -1 or 5), got "${options.shiftBy}"`)
    given.push({ to: 'shift', by })
  }
  if (given.length !== 1)
    throw invalid(
      `Give exactly one of ${TARGET_FLAGS.join(', ')} (got ${given.length === 0 ? 'none' : given.length})`,
    )
  return given[0]!
}

async function groupOrUndefined(admin: Admin, groupId: string): Promise<GroupDescription | undefined> {
  try {
    return await admin.describeGroup(groupId)
  } catch (error) {
    if (error instanceof TributaryError && error.code === 'UNKNOWN_GROUP') return undefined
    throw error
  }
}

/** The partitions named: every partition of a topic without ":", or those listed, each checked to exist. */
async function selectedPartitions(admin: Admin, selections: TopicSelection[]): Promise<TopicPartition[]> {
  const chosen: TopicPartition[] = []
  for (const selection of selections) {
    const [description] = await admin.describeTopics([selection.topic])
    const existing = (description?.partitions ?? []).map((p) => p.partition).sort((a, b) => a - b)
    for (const partition of selection.partitions ?? existing) {
      if (!existing.includes(partition))
        throw new TributaryError(
          'INVALID_PARTITIONS',
          `Topic "${selection.topic}" has no partition ${partition} (it has ${existing.length}: 0-${existing.length - 1})`,
          { topic: selection.topic, partition },
        )
      chosen.push({ topic: selection.topic, partition })
    }
  }
  return chosen
}

async function offsetMap(
  admin: Admin,
  topic: string,
  spec: Parameters<Admin['listOffsets']>[1],
): Promise<Map<number, number>> {
  return new Map((await admin.listOffsets(topic, spec)).map((p) => [p.partition, p.offset]))
}

/**
 * The new committed offset of every selected partition (`allTopics`: every topic the group committed
 * to). An offset outside the log is moved to its start or end and the row says so, as Kafka's tool does.
 */
export async function planReset(
  admin: Admin,
  groupId: string,
  selections: TopicSelection[] | 'all-topics',
  target: ResetTarget,
): Promise<ResetPlan> {
  const group = await groupOrUndefined(admin, groupId)
  const committedList = await admin.listGroupOffsets(groupId)
  const committed = new Map(committedList.map((o) => [tpKey(o), o.offset]))
  const topics =
    selections === 'all-topics'
      ? [...new Set(committedList.map((o) => o.topic))].map((topic) => ({ topic }))
      : selections
  if (topics.length === 0)
    throw invalid(
      `Group "${groupId}" has no committed offsets, so --all-topics selects nothing; name them with --topic`,
    )
  const chosen = await selectedPartitions(admin, topics)
  const partitions: PlannedReset[] = []
  const missing: string[] = []
  for (const topic of [...new Set(chosen.map((tp) => tp.topic))]) {
    const starts = await offsetMap(admin, topic, 'earliest')
    const ends = await offsetMap(admin, topic, 'latest')
    const atTime =
      target.to === 'datetime' ? await offsetMap(admin, topic, { timestamp: target.timestamp }) : undefined
    for (const { partition } of chosen.filter((tp) => tp.topic === topic)) {
      const current = committed.get(tpKey({ topic, partition }))
      const logStart = starts.get(partition) ?? 0
      const logEnd = ends.get(partition) ?? 0
      let wanted: number
      if (target.to === 'earliest') wanted = logStart
      else if (target.to === 'latest') wanted = logEnd
      else if (target.to === 'offset') wanted = target.offset
      else if (target.to === 'datetime') wanted = atTime?.get(partition) ?? logEnd
      else if (current === undefined) {
        missing.push(`${topic}:${partition}`)
        continue
      } else wanted = current + target.by
      const offset = Math.min(Math.max(wanted, logStart), logEnd)
      const note =
        offset === wanted
          ? ''
          : wanted < logStart
            ? `${wanted} is before the log start`
            : `${wanted} is past the log end`
      partitions.push({ topic, partition, offset, current, logStart, logEnd, note })
    }
  }
  if (missing.length > 0)
    throw invalid(
      `--shift-by moves a committed offset, and group "${groupId}" has none for ${missing.join(', ')}; ` +
        'choose those partitions with --to-earliest, --to-latest, --to-offset or --to-datetime',
    )
  const live = group !== undefined && group.members.length > 0 ? group : undefined
  return { groupId, live, partitions }
}

const dash = (n: number | undefined): string => (n === undefined ? '-' : String(n))

function planTable(plan: ResetPlan): string {
  return formatTable(
    ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET', 'LOG-START', 'LOG-END', 'NOTE'],
    plan.partitions.map((p) => [
      p.topic,
      String(p.partition),
      dash(p.current),
      String(p.offset),
      String(p.logStart),
      String(p.logEnd),
      p.note || '-',
    ]),
  )
}

function liveNote(live: GroupDescription): string {
  const n = live.members.length
  return `group "${live.groupId}" has ${n} live member${n === 1 ? '' : 's'} (state ${live.state})`
}

/** Prints the plan; with `execute`, commits it first (refused while the group has live members). */
export async function resetOffsets(
  admin: Admin,
  plan: ResetPlan,
  execute: boolean,
  out: Writable,
): Promise<void> {
  const table = planTable(plan)
  if (!execute) {
    const warning = plan.live
      ? `\nNote: ${liveNote(plan.live)}; --execute is refused until its workers stop.\n`
      : ''
    await write(
      out,
      `Plan for group "${plan.groupId}" (dry run: nothing was changed; add --execute to commit it):\n\n${table}${warning}`,
    )
    return
  }
  if (plan.live)
    throw new TributaryError(
      'GROUP_NOT_EMPTY',
      `Could not reset the offsets of group "${plan.groupId}": ${liveNote(plan.live)}; stop its workers, then run this again (tributary groups describe ${plan.groupId} --members lists them)`,
    )
  await admin.alterGroupOffsets(
    plan.groupId,
    plan.partitions.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
  )
  const n = plan.partitions.length
  await write(
    out,
    `Committed new offsets for ${n} partition${n === 1 ? '' : 's'} of group "${plan.groupId}":\n\n${table}`,
  )
}

/** Forgets the group's committed offsets of the selected partitions (the group keeps the others). */
export async function deleteOffsets(
  admin: Admin,
  groupId: string,
  selections: TopicSelection[],
  out: Writable,
): Promise<void> {
  const offsets = await admin.listGroupOffsets(groupId)
  if (offsets.length === 0 && (await groupOrUndefined(admin, groupId)) === undefined)
    throw new TributaryError(
      'UNKNOWN_GROUP',
      `Consumer group "${groupId}" does not exist (tributary groups list shows the groups)`,
    )
  const partitions = await selectedPartitions(admin, selections)
  const committed = new Set(offsets.map(tpKey))
  await admin.deleteGroupOffsets(groupId, partitions)
  const had = partitions.filter((tp) => committed.has(tpKey(tp)))
  const names = (tps: TopicPartition[]): string => tps.map((tp) => `${tp.topic}:${tp.partition}`).join(', ')
  let text = `Deleted the committed offsets of group "${groupId}" for ${had.length === 0 ? 'no partition' : names(had)}.\n`
  const none = partitions.filter((tp) => !committed.has(tpKey(tp)))
  if (none.length > 0) text += `It had none for ${names(none)}.\n`
  await write(out, text)
}
