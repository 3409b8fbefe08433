/** `tributary groups list|describe`: consumer groups, their members, committed offsets and lag. */
import type { Writable } from 'node:stream'
import { Command } from 'commander'
import { TributaryError } from '../../errors.js'
import type { Admin, GroupMember, TopicDescription } from '../../transport/types.js'
import type { CliContext } from '../context.js'
import { formatTable, write } from '../output.js'
import { tpKey } from '../positions.js'

export async function listGroups(admin: Admin, out: Writable): Promise<void> {
  const groups = [...(await admin.listGroups())].sort((a, b) => a.groupId.localeCompare(b.groupId))
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
  const offsets = await admin.listGroupOffsets(groupId)
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

export async function describeGroup(admin: Admin, options: { group: string }, out: Writable): Promise<void> {
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

const HEADER = ['TOPIC', 'PARTITION', 'COMMITTED', 'LOG-END', 'LAG', 'MEMBER', 'CLIENT-ID', 'HOST']

export function groupsCommand(context: CliContext): Command {
  const groups = new Command('groups').description('list consumer groups and show their offsets and lag')
  const out = context.io.stdout
  groups
    .command('list')
    .description('list consumer groups and their states')
    .addHelpText('after', '\nExamples:\n  $ tributary groups list')
    .action(async (_options: unknown, command: Command) => {
      await context.admin(command, (admin) => listGroups(admin, out))
    })
  groups
    .command('describe <group>')
    .description('per partition: committed offset, log end offset, lag and the member that owns it')
    .addHelpText(
      'after',
      '\nLag is log end offset minus committed offset; "-" marks a partition the group never committed.\n' +
        '\nExamples:\n  $ tributary groups describe printers',
    )
    .action(async (group: string, _options: unknown, command: Command) => {
      await context.admin(command, (admin) => describeGroup(admin, { group }, out))
    })
  return groups
}
