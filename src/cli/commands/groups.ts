/**
 * `tributary groups list|describe|reset-offsets|delete-offsets|delete`: consumer groups, their members,
 * committed offsets and lag, and the offset moves of `kafka-consumer-groups`.
 */
import type { Writable } from 'node:stream'
import { Command } from 'commander'
import { TributaryError } from '../../errors.js'
import { partitionsByTopic } from '../../transport/by-topic.js'
import type { Admin, GroupMember, TopicDescription, TopicPartition } from '../../transport/types.js'
import type { CliContext } from '../context.js'
import { collect } from '../args.js'
import { formatTable, write } from '../output.js'
import { tpKey } from '../positions.js'
import {
  deleteOffsets,
  parseResetTarget,
  parseTopicSelection,
  planReset,
  resetOffsets,
  type TopicSelection,
} from './group-offsets.js'

export async function listGroups(admin: Admin, out: Writable, json = false): Promise<void> {
  const groups = [...(await admin.listGroups())].sort((a, b) => a.groupId.localeCompare(b.groupId))
  if (json) return write(out, JSON.stringify(groups) + '\n')
  if (groups.length === 0) return write(out, 'No consumer groups.\n')
  await write(
    out,
    formatTable(
      ['GROUP', 'STATE'],
      groups.map((g) => [g.groupId, g.state]),
    ),
  )
}

/** One row of `groups describe`: lag is the log end offset minus the committed offset. */
export interface PartitionLag {
  topic: string
  partition: number
  committed: number | undefined
  logEnd: number | undefined
  lag: number | undefined
  member: GroupMember | undefined
}

export interface GroupLag {
  groupId: string
  state: string
  members: number
  partitions: PartitionLag[]
  /** The sum of the known lags. */
  totalLag: number
}

/**
 * Rows for every partition of every topic the group committed to or is assigned, so a partition the
 * group never committed shows up (with "-") instead of hiding.
 */
export async function groupLag(admin: Admin, groupId: string): Promise<GroupLag> {
  const group = await admin.describeGroup(groupId)
  // Committed so far, as Kafka's kafka-consumer-groups shows them: a view of a busy exactly-once
  // group (or of one whose worker died mid-transaction) answers at once, not after the transaction.
  const offsets = await admin.listGroupOffsets(groupId, { stable: false })
  if (group.state.toLowerCase() === 'dead' && group.members.length === 0 && offsets.length === 0) {
    throw new TributaryError(
      'UNKNOWN_GROUP',
      `Consumer group "${groupId}" does not exist (tributary groups list shows the groups)`,
    )
  }
  const owners = new Map(group.members.flatMap((m) => m.assignment.map((tp) => [tpKey(tp), m] as const)))
  const committed = new Map(offsets.map((o) => [tpKey(o), o.offset]))
  const topics = [
    ...new Set([
      ...offsets.map((o) => o.topic),
      ...group.members.flatMap((m) => m.assignment.map((a) => a.topic)),
    ]),
  ]
  const partitions: PartitionLag[] = []
  for (const topic of topics.sort()) {
    const numbers = new Set(offsets.filter((o) => o.topic === topic).map((o) => o.partition))
    for (const member of group.members)
      for (const a of member.assignment) if (a.topic === topic) numbers.add(a.partition)
    const description = await describeIfExists(admin, topic)
    for (const p of description?.partitions ?? []) numbers.add(p.partition)
    // A deleted topic keeps its committed offsets in the group, but has no log end any more.
    const ends = description === undefined ? new Map<number, number>() : await logEnds(admin, topic)
    for (const partition of [...numbers].sort((a, b) => a - b)) {
      const key = tpKey({ topic, partition })
      const at = committed.get(key)
      const end = ends.get(partition)
      const lag = at === undefined || end === undefined ? undefined : Math.max(0, end - at)
      partitions.push({ topic, partition, committed: at, logEnd: end, lag, member: owners.get(key) })
    }
  }
  const totalLag = partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0)
  return { groupId, state: group.state, members: group.members.length, partitions, totalLag }
}

async function describeIfExists(admin: Admin, topic: string): Promise<TopicDescription | undefined> {
  try {
    return (await admin.describeTopics([topic]))[0]
  } catch (error) {
    if (error instanceof TributaryError && error.code === 'UNKNOWN_TOPIC') return undefined
    throw error
  }
}

async function logEnds(admin: Admin, topic: string): Promise<Map<number, number>> {
  return new Map((await admin.listOffsets(topic, 'latest')).map((p) => [p.partition, p.offset]))
}

export async function describeGroup(
  admin: Admin,
  options: { group: string; members?: boolean; state?: boolean; json?: boolean },
  out: Writable,
): Promise<void> {
  if (options.json) {
    const group = await admin.describeGroup(options.group)
    const lag = await groupLag(admin, options.group)
    const partitions = lag.partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      committed: p.committed ?? null,
      logEnd: p.logEnd ?? null,
      lag: p.lag ?? null,
      memberId: p.member?.memberId ?? null,
    }))
    return write(out, JSON.stringify({ ...group, partitions, totalLag: lag.totalLag }) + '\n')
  }
  if (options.members || options.state) {
    const group = await admin.describeGroup(options.group)
    let text = ''
    if (options.state)
      text += formatTable(
        ['GROUP', 'STATE', 'ASSIGNOR', 'MEMBERS'],
        [[group.groupId, group.state, group.assignor || '-', String(group.members.length)]],
      )
    if (options.members) {
      if (text !== '') text += '\n'
      text +=
        group.members.length === 0
          ? `Group "${group.groupId}" has no live members.\n`
          : formatTable(
              ['MEMBER', 'CLIENT-ID', 'HOST', 'PARTITIONS', 'ASSIGNMENT'],
              group.members.map((m) => [
                m.memberId,
                m.clientId,
                m.host,
                String(m.assignment.length),
                assignmentText(m.assignment) || '-',
              ]),
            )
    }
    return write(out, text)
  }
  const lag = await groupLag(admin, options.group)
  const dash = (n: number | undefined): string => (n === undefined ? '-' : String(n))
  const rows = lag.partitions.map((p) => [
    p.topic,
    String(p.partition),
    dash(p.committed),
    dash(p.logEnd),
    dash(p.lag),
    p.member?.memberId ?? '-',
    p.member?.clientId ?? '-',
    p.member?.host ?? '-',
  ])
  const members = String(lag.members)
  let text = `Group: ${lag.groupId}  State: ${lag.state}  Members: ${members}\n\n`
  text += rows.length === 0 ? 'No committed offsets and no assigned partitions.\n' : formatTable(HEADER, rows)
  const unknown = lag.partitions.filter((p) => p.lag === undefined).length
  const note =
    unknown === 0
      ? ''
      : ` (${unknown} partition${unknown === 1 ? '' : 's'} without a committed offset not counted)`
  text += `\nTotal lag: ${lag.totalLag}${note}\n`
  await write(out, text)
}

/** `orders:0,1 payments:2`: a member's partitions grouped by topic. */
function assignmentText(assignment: readonly TopicPartition[]): string {
  return partitionsByTopic(assignment)
    .map(([topic, ps]) => `${topic}:${ps.join(',')}`)
    .join(' ')
}

export async function deleteGroups(admin: Admin, groupIds: string[], out: Writable): Promise<void> {
  for (const groupId of groupIds) {
    await admin.deleteGroup(groupId)
    await write(out, `Deleted group "${groupId}".\n`)
  }
}

const HEADER = ['TOPIC', 'PARTITION', 'COMMITTED', 'LOG-END', 'LAG', 'MEMBER', 'CLIENT-ID', 'HOST']

export function groupsCommand(context: CliContext): Command {
  const groups = new Command('groups').description(
    'list and describe consumer groups, reset or delete their offsets, delete groups',
  )
  const out = context.io.stdout
  groups
    .command('list')
    .description('list consumer groups and their states')
    .option('--json', 'JSON: an array of {groupId, state}')
    .addHelpText('after', '\nExamples:\n  $ tributary groups list\n  $ tributary groups list --json')
    .action(async (options: { json?: boolean }, command: Command) => {
      await context.admin(command, (admin) => listGroups(admin, out, options.json === true))
    })
  groups
    .command('describe <group>')
    .description('per partition: committed offset, log end offset, lag and the member that owns it')
    .option('--members', 'the live members instead: id, client id, host and assigned partitions')
    .option('--state', 'the group state instead: state, assignor and member count')
    .option('--json', 'JSON: state, assignor, members with their assignments, and the lag per partition')
    .addHelpText(
      'after',
      '\nLag is log end offset minus committed offset; "-" marks a partition the group never committed.\n' +
        '\nExamples:\n  $ tributary groups describe printers\n  $ tributary groups describe printers --members --state',
    )
    .action(
      async (
        group: string,
        options: { members?: boolean; state?: boolean; json?: boolean },
        command: Command,
      ) => {
        await context.admin(command, (admin) => describeGroup(admin, { group, ...options }, out))
      },
    )
  groups
    .command('reset-offsets <group>')
    .description("move a group's committed offsets: prints the plan, and commits it with --execute")
    .option('--topic <topic[:p,...]>', 'a topic, or some of its partitions (repeatable)', collect)
    .option('--all-topics', 'every topic the group has committed offsets for')
    .option('--to-earliest', 'to the start of the log')
    .option('--to-latest', 'to the end of the log (skips everything not yet read)')
    .option('--to-offset <n>', 'to this offset in every selected partition')
    .option('--to-datetime <time>', 'to the first record at or after an ISO time or @epoch-ms')
    .option('--shift-by <n>', 'by n from the committed offset (negative: back, to read again)')
    .option('--execute', 'commit the plan (without it: a dry run that changes nothing)')
    .addHelpText(
      'after',
      '\nThe group must have no live members to --execute: stop its workers first. An offset outside the\n' +
        'log is moved to its start or end, and the plan says so.\n' +
        '\nTo skip a record that stops a worker (errors: "fail"), commit the offset after it:\n' +
        '  $ tributary groups reset-offsets my-app --topic orders:3 --to-offset 1042 --execute\n' +
        '\nExamples:\n' +
        '  $ tributary groups reset-offsets my-app --topic orders --to-earliest\n' +
        '  $ tributary groups reset-offsets my-app --all-topics --to-datetime 2024-05-01T12:00:00Z --execute\n' +
        '  $ tributary groups reset-offsets my-app --topic orders:0,1 --shift-by -100 --execute',
    )
    .action(async (group: string, options: ResetOptions, command: Command) => {
      const target = parseResetTarget(options)
      const selections = topicSelections(options.topic, options.allTopics === true, '--all-topics')
      await context.admin(command, async (admin) =>
        resetOffsets(admin, await planReset(admin, group, selections, target), options.execute === true, out),
      )
    })
  groups
    .command('delete-offsets <group>')
    .description("forget a group's committed offsets of some topics or partitions")
    .requiredOption('--topic <topic[:p,...]>', 'a topic, or some of its partitions (repeatable)', collect)
    .addHelpText(
      'after',
      "\nKafka refuses it for a topic the group's live members subscribe to.\n" +
        '\nExamples:\n  $ tributary groups delete-offsets my-app --topic old-orders',
    )
    .action(async (group: string, options: { topic: string[] }, command: Command) => {
      const selections = options.topic.map(parseTopicSelection)
      await context.admin(command, (admin) => deleteOffsets(admin, group, selections, out))
    })
  groups
    .command('delete <group...>')
    .description('delete consumer groups and their committed offsets')
    .addHelpText(
      'after',
      '\nKafka refuses to delete a group that has live members.\n\nExamples:\n  $ tributary groups delete my-app old-app',
    )
    .action(async (ids: string[], _options: unknown, command: Command) => {
      await context.admin(command, (admin) => deleteGroups(admin, ids, out))
    })
  return groups
}

interface ResetOptions {
  topic?: string[]
  allTopics?: boolean
  toEarliest?: boolean
  toLatest?: boolean
  toOffset?: string
  toDatetime?: string
  shiftBy?: string
  execute?: boolean
}

function topicSelections(
  topics: string[] | undefined,
  all: boolean,
  allFlag: string,
): TopicSelection[] | 'all-topics' {
  if (all && topics !== undefined)
    throw new TributaryError('INVALID_ARGUMENT', `Give --topic or ${allFlag}, not both`)
  if (all) return 'all-topics'
  if (topics === undefined)
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `Name the partitions to reset: --topic <topic[:p,...]> or ${allFlag}`,
    )
  return topics.map(parseTopicSelection)
}
