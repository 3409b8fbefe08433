/**
 * `tributary send <topic|@agent> <value>`: one record, acknowledged, and where it landed. Without an
 * app the key and value are sent as UTF-8 bytes; with `--app` they are encoded with the codecs of the
 * topic the app declares (for `@agent`: the topic the agent reads).
 */
import type { Writable } from 'node:stream'
import { Command } from 'commander'
import { TributaryError } from '../../errors.js'
import type { Codec } from '../../serde/types.js'
import type { App } from '../../streams/app.js'
import type { Topic } from '../../streams/topic.js'
import type { Headers, ProducerRecord, RecordMetadata, Transport } from '../../transport/types.js'
import { loadApp } from '../app-loader.js'
import { collect, parseHeaders, parseInteger } from '../args.js'
import { DEFAULT_TIMEOUT_MS } from '../broker.js'
import type { CliContext } from '../context.js'
import { EXIT_OK } from '../context.js'
import { write } from '../output.js'
import { checkPartition, describeExisting } from '../preflight.js'

export interface SendInput {
  /** A topic name, or `@agent` (with an app) for the topic that agent reads. */
  target: string
  /** null: a tombstone (send --null). */
  value: string | null
  /** Absent: a null key (the partitioner then spreads records). */
  key?: string
  partition?: number
  /** Raw `name=value` strings. */
  headers?: string[]
}

function invalid(message: string, cause?: unknown): TributaryError {
  return new TributaryError('INVALID_ARGUMENT', message, cause === undefined ? {} : { cause })
}

function common(input: SendInput, topic: string): ProducerRecord {
  const record: ProducerRecord = { topic, key: null, value: null }
  const headers: Headers = parseHeaders(input.headers ?? [])
  if (headers.length > 0) record.headers = headers
  if (input.partition !== undefined) record.partition = input.partition
  return record
}

/** Without an app: the key and value as UTF-8 bytes. */
export function plainRecord(input: SendInput): ProducerRecord {
  if (input.target.startsWith('@')) {
    throw invalid(
      `"${input.target}" names an agent: give --app <module> so that its topic (and codecs) can be found`,
    )
  }
  const record = common(input, input.target)
  record.value = input.value === null ? null : Buffer.from(input.value, 'utf8')
  if (input.key !== undefined) record.key = Buffer.from(input.key, 'utf8')
  return record
}

/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- apps hold topics of any types */
type AnyTopic = Topic<any, any>

/** The topic a target names in an app: a declared (or internal) topic, or `@agent`'s source topic. */
export function targetTopic(app: App, target: string): AnyTopic {
  if (target.startsWith('@')) {
    const name = target.slice(1)
    const agent = app.agents.get(name)
    if (agent === undefined) {
      const names = [...app.agents.keys()]
      throw invalid(
        `App "${app.id}" has no agent "${name}"` +
          (names.length > 0 ? ` (its agents: ${names.join(', ')})` : ' (it declares no agents)'),
      )
    }
    return agent.stream.source as AnyTopic
  }
  const declared = app.topics.get(target) ?? app.compile().topics.find((t) => t.name === target)
  if (declared !== undefined) return declared
  throw invalid(
    `App "${app.id}" declares no topic "${target}" (its topics: ${[...app.topics.keys()].join(', ') || 'none'}); ` +
      'without --app, send writes UTF-8 bytes to any topic',
  )
}

const isRaw = (name: string): boolean => /^(nullable\()?raw\)?$/.test(name)
const isString = (name: string): boolean => /^(nullable\()?string\)?$/.test(name)
const isJson = (name: string): boolean => /json/i.test(name)

/**
 * The command-line text as the value a codec encodes: bytes for raw, the text for string, parsed
 * JSON for json codecs; other codecs (Avro, custom) get parsed JSON when the text is JSON, else the text.
 */
function fromText(text: string, codec: Codec<unknown>, what: string, topic: string): unknown {
  if (isRaw(codec.name)) return Buffer.from(text, 'utf8')
  if (isString(codec.name)) return text
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    if (!isJson(codec.name)) return text
    const reason = error instanceof Error ? error.message : String(error)
    throw invalid(
      `The ${what} is not JSON, and topic "${topic}" has ${what} codec ${codec.name}: ${reason} ` +
        `(a JSON string needs its quotes: '"text"')`,
      error,
    )
  }
}

function encodeWith(text: string, codec: Codec<unknown>, what: string, topic: string): Buffer | null {
  const value = fromText(text, codec, what, topic)
  try {
    return codec.encode(value)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw invalid(`The ${what} does not fit codec ${codec.name} of topic "${topic}": ${reason}`, error)
  }
}

/** With an app: the key and value encoded with the codecs of the topic the target names. */
export function appRecord(app: App, input: SendInput): ProducerRecord {
  const topic = targetTopic(app, input.target)
  const record = common(input, topic.name)
  // A tombstone is null whatever the value codec: it deletes the key on a compacted topic.
  record.value =
    input.value === null ? null : encodeWith(input.value, topic.value as Codec<unknown>, 'value', topic.name)
  if (input.key !== undefined)
    record.key = encodeWith(input.key, topic.key as Codec<unknown>, 'key', topic.name)
  return record
}

export interface SendOptions {
  /** Safety timeout of the first broker round trip. @default 12000 */
  timeoutMs?: number
}

/** Sends one record and prints where it was stored. The topic must exist. */
export async function sendRecord(
  transport: Transport,
  record: ProducerRecord,
  options: SendOptions,
  out: Writable,
): Promise<RecordMetadata> {
  const [description] = await describeExisting(
    transport.admin(),
    [record.topic],
    options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    transport.url,
  )
  if (record.partition !== undefined && description) checkPartition(description, record.partition)
  const producer = transport.producer({ clientId: 'tributary-cli', acks: 'all' })
  try {
    const [meta] = await producer.send([record])
    if (meta === undefined) throw new TributaryError('KAFKA', `The broker did not acknowledge the record`)
    await write(out, `Sent to ${meta.topic} partition ${meta.partition} offset ${meta.offset}\n`)
    return meta
  } finally {
    await producer.close().catch(() => undefined)
  }
}

interface SendFlags {
  key?: string
  app?: string
  appExport?: string
  partition?: number
  header?: string[]
  null?: boolean
}

export function sendCommand(context: CliContext): Command {
  return new Command('send')
    .description('send one record to a topic (or to the topic an agent reads) and print its offset')
    .argument('<target>', 'topic name, or @agent (with --app) for the topic the agent reads')
    .argument('[value]', "the value: UTF-8 text, or with --app text for the topic's value codec")
    .option('-k, --key <key>', 'the key (default: none, null)')
    .option('-Z, --null', 'send a null value: a tombstone, which deletes the key on a compacted topic')
    .option('--app <module>', "encode with the codecs an app declares for the topic; use the app's broker")
    .option('--app-export <name>', 'the export of --app to use, when the module exports several apps')
    .option('-p, --partition <n>', 'write to this partition (default: by key)', (t) =>
      parseInteger(t, '--partition'),
    )
    .option('-H, --header <name=value>', 'a header, repeatable', collect)
    .addHelpText(
      'after',
      '\nWithout --app the key and value are sent as UTF-8 bytes. With --app they are encoded with the\n' +
        "topic's codecs: JSON codecs take JSON ('{\"fare\": 12}', '\"text\"'), string codecs take the text,\n" +
        'raw takes the bytes of the text. The broker is --broker (or TRIBUTARY_BROKER), else with --app\n' +
        "the app's own; memory:// is refused, as it lives inside the app's process.\n\nExamples:\n" +
        '  $ tributary send greetings hello -k en\n' +
        '  $ tributary send rides \'{"vendor": "v1", "fare": 12.5}\' -k ride-1 --app src/app.ts\n' +
        '  $ tributary send @big-rides \'{"vendor": "v2", "fare": 40}\' --app src/app.ts\n' +
        '  $ tributary send vendor-totals --null -k vendor-1      # a tombstone',
    )
    .action(async (target: string, value: string | undefined, flags: SendFlags, command: Command) => {
      if (flags.null && value !== undefined)
        throw invalid(`--null sends no value, and a value was given ("${value}"): give one of them`)
      if (!flags.null && value === undefined)
        throw invalid('Give the value to send, or --null for a tombstone (a null value)')
      const input: SendInput = {
        target,
        value: value ?? null,
        key: flags.key,
        partition: flags.partition,
        headers: flags.header,
      }
      if (flags.appExport !== undefined && flags.app === undefined)
        throw invalid('--app-export needs --app <module>')
      // Everything that can be checked without the broker is checked before connecting.
      let record: ProducerRecord
      let broker: string | undefined
      if (flags.app === undefined) {
        record = plainRecord(input)
      } else {
        const { app } = await loadApp(flags.app, { exportName: flags.appExport })
        record = appRecord(app, input)
        broker = app.settings.broker
      }
      await context.client(
        command,
        async (transport, global) => {
          await sendRecord(transport, record, { timeoutMs: global.timeout }, context.io.stdout)
          return EXIT_OK
        },
        { broker },
      )
    })
}
