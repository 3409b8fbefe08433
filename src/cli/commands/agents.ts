/** `tributary agents <module>`: the agents of an app, their chains and sinks, and the topics it uses. */
import type { Writable } from 'node:stream'
import { Command } from 'commander'
import { leaderGroup, leaderTopic } from '../../runtime/leader/topic.js'
import { dlqTopic } from '../../runtime/output/dead-letter.js'
import type { Agent, Sink } from '../../streams/agent.js'
import type { App } from '../../streams/app.js'
import { replyTopic } from '../../streams/replies.js'
import type { Op } from '../../streams/stream.js'
import type { Topic } from '../../streams/topic.js'
import type { ErrorPolicy } from '../../streams/types.js'
import { parseTransportUrl } from '../../transport/url.js'
import { loadApp } from '../app-loader.js'
import type { CliContext } from '../context.js'
import { formatTable, write } from '../output.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- apps hold topics and agents of any types */
type AnyTopic = Topic<any, any>
type AnyAgent = Agent<any, any>
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface AgentInfo {
  name: string
  /** The topic the agent's chain starts from. */
  source: string
  /** The operators in order, then `agent`: e.g. `filter > map > groupBy(by-vendor) > agent`. */
  chain: string[]
  /** Topics by name, agents as `@name`, functions as `name()`. */
  sinks: string[]
  errors: ErrorPolicy
  /** True when the policy is the app's `errors` setting rather than the agent's own. */
  errorsFromApp: boolean
}

export interface TopicInfo {
  name: string
  partitions: number
  /** True when the count is the app's `topicPartitions`, not the topic's own. */
  partitionsFromApp: boolean
  key: string
  value: string
  compacted: boolean
}

export interface InternalTopicInfo extends TopicInfo {
  kind: 'repartition' | 'dead letters' | 'leader election' | 'replies' | 'internal'
  /** The agents writing to it. */
  usedBy: string[]
}

export interface ProcessorInfo {
  /** The agent's name, or `<agent>.<stage>` for the stages before a groupBy or through. */
  name: string
  /** The topic its partition tasks read. */
  topic: string
}

export interface AppDescription {
  id: string
  /** The app's broker setting, without credentials. */
  broker: string
  errors: ErrorPolicy
  agents: AgentInfo[]
  topics: TopicInfo[]
  internalTopics: InternalTopicInfo[]
  /** The consumer groups its workers join. */
  groups: GroupInfo[]
  processors: ProcessorInfo[]
}

export interface GroupInfo {
  id: string
  /** What it is for: the agents' partitions, or the leader election. */
  purpose: string
}

function operator(op: Op): string {
  switch (op.kind) {
    case 'map':
    case 'filter':
      return op.kind
    case 'forward':
    case 'through':
      return `${op.kind}(${op.topic.name})`
    case 'branch':
      return `branch(${op.routes.map((r) => r.to.name).join(', ')})`
    case 'groupBy':
      return `groupBy(${op.name})`
  }
}

/** Sinks by shape (the app may come from another copy of the library: see app-loader.ts). */
function sinkName(sink: Sink): string {
  if (typeof sink === 'function') return `${sink.name || 'anonymous'}()`
  if ('body' in sink) return `@${sink.name}`
  return sink.name
}

function topicInfo(topic: AnyTopic, app: App): TopicInfo {
  const own = topic.options.partitions
  return {
    name: topic.name,
    partitions: own ?? app.settings.topicPartitions,
    partitionsFromApp: own === undefined,
    key: topic.key.name,
    value: topic.value.name,
    compacted: topic.options.compacted === true,
  }
}

function brokerDisplay(url: string): string {
  const parsed = parseTransportUrl(url)
  return parsed.scheme === 'kafka' ? parsed.display : url
}

export function describeApp(app: App): AppDescription {
  const agents: AnyAgent[] = [...app.agents.values()]
  const { processors, topics } = app.compile()
  const repartitionUsers = new Map<string, string[]>()
  for (const agent of agents) {
    for (const op of agent.stream.ops) {
      if (op.kind !== 'groupBy') continue
      const name = `${app.id}-${op.name}-repartition`
      repartitionUsers.set(name, [...(repartitionUsers.get(name) ?? []), agent.name])
    }
  }
  const policy = (agent: AnyAgent): ErrorPolicy => agent.options.errors ?? app.settings.errors
  const internalTopics = topics
    .filter((t) => !app.topics.has(t.name))
    .map((topic): InternalTopicInfo => {
      const repartition = repartitionUsers.get(topic.name)
      if (repartition) return { ...topicInfo(topic, app), kind: 'repartition', usedBy: repartition }
      if (topic.name === dlqTopic(app.id)) {
        const usedBy = agents.filter((a) => policy(a) === 'dlq').map((a) => a.name)
        return { ...topicInfo(topic, app), kind: 'dead letters', usedBy }
      }
      return { ...topicInfo(topic, app), kind: 'internal', usedBy: [] }
    })
  const groups: GroupInfo[] = []
  if (processors.length > 0)
    groups.push({ id: app.id, purpose: "the agents' partition tasks (commits their offsets)" })
  if (app.electsLeader) {
    // Created by the election itself, not by compile(): 1 partition.
    internalTopics.push({
      name: leaderTopic(app.id),
      partitions: 1,
      partitionsFromApp: false,
      key: 'raw',
      value: 'raw',
      compacted: false,
      kind: 'leader election',
      usedBy: ['timers and crons with onLeader'],
    })
    groups.push({ id: leaderGroup(app.id), purpose: 'the leader election (onLeader timers and crons)' })
  }
  // Made on the first agent.ask(): every worker reads it without a group.
  internalTopics.push({
    name: replyTopic(app.id),
    partitions: 1,
    partitionsFromApp: false,
    key: 'raw',
    value: 'raw',
    compacted: false,
    kind: 'replies',
    usedBy: ['agent.ask(), on first use'],
  })
  return {
    id: app.id,
    broker: brokerDisplay(app.settings.broker),
    errors: app.settings.errors,
    agents: agents.map((agent) => ({
      name: agent.name,
      source: agent.stream.source.name,
      chain: [...agent.stream.ops.map(operator), 'agent'],
      sinks: (agent.options.sink ?? []).map(sinkName),
      errors: policy(agent),
      errorsFromApp: agent.options.errors === undefined,
    })),
    topics: [...app.topics.values()].map((t) => topicInfo(t, app)),
    internalTopics,
    groups,
    processors: processors.map((p) => ({ name: p.name, topic: p.topic })),
  }
}

export interface AgentsOptions {
  /** One JSON document instead of the tables. */
  json?: boolean
}

const partitions = (t: TopicInfo): string => `${t.partitions}${t.partitionsFromApp ? ' (app)' : ''}`
const codecs = (t: TopicInfo): string[] => [t.key, t.value]
const orNone = (items: string[]): string => (items.length > 0 ? items.join(', ') : '-')

export async function listAgents(app: App, options: AgentsOptions, out: Writable): Promise<AppDescription> {
  const d = describeApp(app)
  if (options.json) {
    await write(out, `${JSON.stringify(d, null, 2)}\n`)
    return d
  }
  const sections = [`App "${d.id}": broker ${d.broker}, errors ${d.errors} by default\n`]
  sections.push(
    d.agents.length === 0
      ? 'No agents.\n'
      : formatTable(
          ['AGENT', 'SOURCE', 'CHAIN', 'SINKS', 'ERRORS'],
          d.agents.map((a) => [
            a.name,
            a.source,
            a.chain.join(' > '),
            orNone(a.sinks),
            `${a.errors}${a.errorsFromApp ? ' (app)' : ''}`,
          ]),
        ),
  )
  sections.push(
    d.topics.length === 0
      ? 'No declared topics.\n'
      : formatTable(
          ['TOPIC', 'PARTITIONS', 'KEY', 'VALUE', 'COMPACTED'],
          d.topics.map((t) => [t.name, partitions(t), ...codecs(t), t.compacted ? 'yes' : 'no']),
        ),
  )
  if (d.internalTopics.length > 0) {
    sections.push(
      formatTable(
        ['INTERNAL TOPIC', 'KIND', 'PARTITIONS', 'KEY', 'VALUE', 'WRITTEN BY'],
        d.internalTopics.map((t) => [t.name, t.kind, partitions(t), ...codecs(t), orNone(t.usedBy)]),
      ),
    )
  }
  if (d.groups.length > 0) {
    sections.push(
      formatTable(
        ['GROUP', 'FOR'],
        d.groups.map((g) => [g.id, g.purpose]),
      ),
    )
  }
  if (d.processors.length > 0) {
    sections.push(
      formatTable(
        ['PROCESSOR', 'READS'],
        d.processors.map((p) => [p.name, p.topic]),
      ),
    )
  }
  await write(out, sections.join('\n'))
  return d
}

export function agentsCommand(context: CliContext): Command {
  return new Command('agents')
    .description('list the agents of an app (source, operator chain, sinks, error policy) and its topics')
    .argument('<module>', 'TypeScript or JavaScript module exporting the App (default export or "app")')
    .option('--app <exportName>', 'the export to describe, when the module exports several apps')
    .option('--json', 'print one JSON document instead of tables')
    .addHelpText(
      'after',
      '\nNothing is started and no broker is contacted: the module is loaded and its app compiled.\n' +
        '"(app)" marks a value that comes from the app\'s settings (topicPartitions, errors).\n' +
        'Processors are what partition tasks run: an agent with a groupBy or through runs as two or more,\n' +
        'each reading its own topic.\n\nExamples:\n' +
        '  $ tributary agents src/app.ts\n' +
        '  $ tributary agents apps.ts --app counter --json',
    )
    .action(async (module: string, flags: { app?: string; json?: boolean }) => {
      const { app } = await loadApp(module, { exportName: flags.app })
      await listAgents(app, { json: flags.json }, context.io.stdout)
    })
}
