/** `tributary topics list|create|describe|delete|alter`: topic administration. */
import type { Writable } from 'node:stream'
import { Command } from 'commander'
import { TributaryError } from '../../errors.js'
import type { Admin } from '../../transport/types.js'
import { collect, parseConfigs, parseInteger } from '../args.js'
import type { CliContext } from '../context.js'
import { formatTable, write } from '../output.js'

export interface CreateTopicOptions {
  topic: string
  /** @default 1 */
  partitions?: number
  /** @default 1 */
  replicationFactor?: number
  /** Raw `name=value` strings, as typed. */
  configs?: string[]
  ifNotExists?: boolean
}

export interface AlterTopicOptions {
  topic: string
  partitions?: number
  configs?: string[]
  deleteConfigs?: string[]
}

/** One row of `topics list --long`. */
export interface TopicSummary {
  topic: string
  partitions: number
  replicationFactor: number
  /** The broker ids that lead its partitions. */
  leaders: number[]
  /** Records now in the log: the sum over partitions of log end minus log start. */
  records: number
}

async function summarize(admin: Admin, topic: string): Promise<TopicSummary> {
  const [description] = await admin.describeTopics([topic])
  const partitions = description?.partitions ?? []
  const starts = await admin.listOffsets(topic, 'earliest')
  const ends = new Map((await admin.listOffsets(topic, 'latest')).map((o) => [o.partition, o.offset]))
  return {
    topic,
    partitions: partitions.length,
    replicationFactor: partitions[0]?.replicas.length ?? 0,
    leaders: [...new Set(partitions.map((p) => p.leader))].sort((a, b) => a - b),
    records: starts.reduce((sum, o) => sum + Math.max(0, (ends.get(o.partition) ?? o.offset) - o.offset), 0),
  }
}

export async function listTopics(
  admin: Admin,
  options: { internal?: boolean; long?: boolean; json?: boolean },
  out: Writable,
): Promise<void> {
  const names = await admin.listTopics({ includeInternal: options.internal === true })
  if (!options.long) {
    if (options.json) return write(out, JSON.stringify(names) + '\n')
    if (names.length > 0) await write(out, names.join('\n') + '\n')
    return
  }
  const summaries: TopicSummary[] = []
  for (const topic of names) {
    // A topic deleted since the listing is left out, not a failure of the whole command.
    const summary = await summarize(admin, topic).catch((error: unknown) => {
      if (error instanceof TributaryError && error.code === 'UNKNOWN_TOPIC') return undefined
      throw error
    })
    if (summary) summaries.push(summary)
  }
  if (options.json) return write(out, JSON.stringify(summaries) + '\n')
  if (summaries.length === 0) return write(out, 'No topics.\n')
  await write(
    out,
    formatTable(
      ['TOPIC', 'PARTITIONS', 'REPLICATION', 'LEADERS', 'RECORDS'],
      summaries.map((t) => [
        t.topic,
        String(t.partitions),
        String(t.replicationFactor),
        t.leaders.join(','),
        String(t.records),
      ]),
    ),
  )
}

export async function createTopic(admin: Admin, options: CreateTopicOptions, out: Writable): Promise<void> {
  const partitions = options.partitions ?? 1
  const replicationFactor = options.replicationFactor ?? 1
  if (partitions < 1)
    throw invalidPartitions(`--partitions must be at least 1, got ${partitions}`, options.topic)
  if (replicationFactor < 1) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `--replication-factor must be at least 1, got ${replicationFactor}`,
    )
  }
  // Parse before the round trip, so a malformed --config never half-creates anything.
  const configs = parseConfigs(options.configs ?? [])
  try {
    await admin.createTopics([{ topic: options.topic, partitions, replicationFactor, configs }])
  } catch (error) {
    if (options.ifNotExists && error instanceof TributaryError && error.code === 'TOPIC_EXISTS') {
      await write(out, `Topic "${options.topic}" already exists; left as it is.\n`)
      return
    }
    throw error
  }
  const plural = partitions === 1 ? 'partition' : 'partitions'
  await write(
    out,
    `Created topic "${options.topic}" (${partitions} ${plural}, replication factor ${replicationFactor}).\n`,
  )
}

export async function describeTopics(
  admin: Admin,
  options: { topics: string[]; all?: boolean; json?: boolean },
  out: Writable,
): Promise<void> {
  const descriptions = await admin.describeTopics(options.topics)
  if (options.json) {
    const described = []
    for (const d of descriptions) {
      const configs = (await admin.describeConfigs(d.topic))
        .filter((entry) => options.all || !entry.isDefault)
        .map((e) => ({
          name: e.name,
          value: e.sensitive ? null : e.value,
          source: e.source,
          readOnly: e.readOnly,
          sensitive: e.sensitive,
        }))
      described.push({
        ...d,
        partitions: [...d.partitions].sort((a, b) => a.partition - b.partition),
        configs,
      })
    }
    return write(out, JSON.stringify(described) + '\n')
  }
  for (const [index, description] of descriptions.entries()) {
    const all = await admin.describeConfigs(description.topic)
    const configs = all.filter((entry) => !entry.isDefault)
    const shown = configs
      .map((entry) => `${entry.name}=${entry.sensitive ? '(hidden)' : (entry.value ?? '')}`)
      .sort()
      .join(', ')
    const replication = description.partitions[0]?.replicas.length ?? 0
    const rows = [...description.partitions]
      .sort((a, b) => a.partition - b.partition)
      .map((p) => [String(p.partition), String(p.leader), p.replicas.join(','), p.isr.join(',')])
    const text =
      `${index > 0 ? '\n' : ''}Topic: ${description.topic}  Partitions: ${description.partitions.length}  ` +
      `Replication factor: ${replication}\nConfigs: ${shown === '' ? '(all defaults)' : shown}\n` +
      formatTable(['PARTITION', 'LEADER', 'REPLICAS', 'ISR'], rows)
    const every = options.all
      ? '\n' +
        formatTable(
          ['CONFIG', 'VALUE', 'SOURCE'],
          all.map((e) => [e.name, e.sensitive ? '(hidden)' : (e.value ?? '(null)'), e.source]),
        )
      : ''
    await write(out, text + every)
  }
}

export async function deleteTopics(
  admin: Admin,
  options: { topics: string[]; ifExists?: boolean },
  out: Writable,
): Promise<void> {
  let topics = options.topics
  if (options.ifExists) {
    const existing = new Set(await admin.listTopics({ includeInternal: true }))
    topics = topics.filter((topic) => existing.has(topic))
  }
  if (topics.length > 0) await admin.deleteTopics(topics)
  for (const topic of topics) await write(out, `Deleted topic "${topic}".\n`)
}

export async function alterTopic(admin: Admin, options: AlterTopicOptions, out: Writable): Promise<void> {
  const set = parseConfigs(options.configs ?? [])
  const remove = options.deleteConfigs ?? []
  const both = remove.filter((name) => name in set)
  if (both.length > 0)
    throw new TributaryError('INVALID_ARGUMENT', `--config and --delete-config both name ${both.join(', ')}`)
  if (options.partitions === undefined && Object.keys(set).length === 0 && remove.length === 0) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      'Nothing to alter: give --partitions, --config or --delete-config',
    )
  }
  const [description] = await admin.describeTopics([options.topic])
  const current = description?.partitions.length ?? 0
  const { topic, partitions } = options
  if (partitions !== undefined && partitions < current) {
    throw invalidPartitions(
      `Topic "${topic}" has ${current} partitions and Kafka can add partitions but never remove them: ` +
        `--partitions must be more than ${current}, got ${partitions}`,
      topic,
    )
  }
  if (partitions !== undefined && partitions === current) {
    await write(out, `Topic "${topic}" already has ${current} partitions; unchanged.\n`)
  } else if (partitions !== undefined) {
    await admin.createPartitions(topic, partitions)
    // Why the note: the default partitioner maps a key to murmur2(key) % partitions, so keys move.
    await write(
      out,
      `Topic "${topic}" now has ${partitions} partitions (was ${current}). Keyed records written from now ` +
        `on may go to a different partition than older records of the same key.\n`,
    )
  }
  if (Object.keys(set).length > 0 || remove.length > 0) {
    await admin.alterConfigs(topic, { set, remove })
    const changes = [
      ...Object.entries(set).map(([k, v]) => `set ${k}=${v}`),
      ...remove.map((k) => `removed ${k}`),
    ]
    await write(out, `Topic "${topic}" configs: ${changes.join(', ')}.\n`)
  }
}

function invalidPartitions(message: string, topic: string): TributaryError {
  return new TributaryError('INVALID_PARTITIONS', message, { topic })
}

const positive = (what: string) => (text: string) => parseInteger(text, what, 1)

export function topicsCommand(context: CliContext): Command {
  const topics = new Command('topics').description('list, create, describe, delete and alter topics')
  const out = context.io.stdout
  topics
    .command('list')
    .description('list topic names, one per line')
    .option('--internal', 'include internal topics (__consumer_offsets, __transaction_state)')
    .option('--long', 'a table: partitions, replication factor, leaders and records per topic')
    .option('--json', 'JSON: an array of names, or of rows with --long')
    .addHelpText(
      'after',
      '\nExamples:\n  $ tributary topics list\n  $ tributary topics list --long\n' +
        '  $ tributary --broker kafka://kafka1:9092 topics list --internal --json',
    )
    .action(async (options: { internal?: boolean; long?: boolean; json?: boolean }, command: Command) => {
      await context.admin(command, (admin) => listTopics(admin, options, out))
    })
  topics
    .command('create <topic>')
    .description('create a topic')
    .option('--partitions <n>', 'number of partitions (default: 1)', positive('--partitions'))
    .option(
      '-r, --replication-factor <n>',
      'copies of each partition (default: 1)',
      positive('--replication-factor'),
    )
    .option('-c, --config <name=value>', 'topic config, repeatable (retention.ms=86400000)', collect)
    .option('--if-not-exists', 'succeed without change when the topic already exists')
    .addHelpText(
      'after',
      '\nExamples:\n  $ tributary topics create rides --partitions 3 --replication-factor 1\n' +
        '  $ tributary topics create vendors --config cleanup.policy=compact --config retention.ms=-1 --if-not-exists',
    )
    .action(
      async (
        topic: string,
        options: Omit<CreateTopicOptions, 'topic'> & { config?: string[] },
        command: Command,
      ) => {
        await context.admin(command, (admin) =>
          createTopic(admin, { ...options, topic, configs: options.config }, out),
        )
      },
    )
  topics
    .command('describe <topic...>')
    .description('show partitions (leader, replicas, in-sync replicas) and the configs set on the topic')
    .option('--all', 'every config of the topic, with its value and where it comes from')
    .option('--json', 'JSON: the topics with their partitions and configs')
    .addHelpText(
      'after',
      '\nExamples:\n  $ tributary topics describe rides\n  $ tributary topics describe rides vendors --all\n' +
        '  $ tributary topics describe rides --json | jq .[0].partitions',
    )
    .action(async (names: string[], options: { all?: boolean; json?: boolean }, command: Command) => {
      await context.admin(command, (admin) => describeTopics(admin, { topics: names, ...options }, out))
    })
  topics
    .command('delete <topic...>')
    .description('delete topics and all their records')
    .option('--if-exists', 'skip topics that do not exist instead of failing')
    .addHelpText(
      'after',
      '\nExamples:\n  $ tributary topics delete rides\n  $ tributary topics delete rides vendors --if-exists',
    )
    .action(async (names: string[], options: { ifExists?: boolean }, command: Command) => {
      await context.admin(command, (admin) => deleteTopics(admin, { topics: names, ...options }, out))
    })
  topics
    .command('alter <topic>')
    .description('add partitions (never fewer) and set or remove topic configs')
    .option('--partitions <n>', 'new total partition count (must be more than now)', positive('--partitions'))
    .option('-c, --config <name=value>', 'set a topic config, repeatable', collect)
    .option(
      '--delete-config <name>',
      'remove a topic config (back to the broker default), repeatable',
      collect,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ tributary topics alter rides --partitions 6\n' +
        '  $ tributary topics alter rides --config retention.ms=3600000 --delete-config cleanup.policy',
    )
    .action(
      async (
        topic: string,
        options: { partitions?: number; config?: string[]; deleteConfig?: string[] },
        command: Command,
      ) => {
        const alter = {
          topic,
          partitions: options.partitions,
          configs: options.config,
          deleteConfigs: options.deleteConfig,
        }
        await context.admin(command, (admin) => alterTopic(admin, alter, out))
      },
    )
  return topics
}
