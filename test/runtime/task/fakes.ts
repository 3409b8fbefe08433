/**
 * Fakes shared by the runtime's unit tests: a TaskHost that records every produce() call and lets
 * the test acknowledge or fail it, processor specs built from a few lines, and waits on predicates
 * that let promise chains run (event-loop turns, never time).
 */
import { ManualClock } from '../../../src/runtime/clock.js'
import type { LogLevel } from '../../../src/runtime/log.js'
import type { Delivered, HeldOutputs } from '../../../src/runtime/output/batcher.js'
import { RecordEvent } from '../../../src/runtime/task/event.js'
import type { StreamTask, TaskHost } from '../../../src/runtime/task/task.js'
import type {
  AgentSpec,
  AnyEvent,
  ErrorPolicy,
  EventSource,
  NodeSpec,
  Processor,
  ProcessorContext,
  Subtopology,
  Transformed,
} from '../../../src/runtime/types.js'
import type { ConsumedRecord, ProducerRecord } from '../../../src/transport/types.js'

export const T0 = Date.UTC(2024, 0, 1)

/** One turn of the event loop: promise chains started before it have run. */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Lets `n` turns pass (to show that something did NOT happen once everything settled). */
export async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await turn()
}

/** Waits, turn by turn, until `check()` holds; fails naming what it waited for. */
export async function until(what: string, check: () => boolean, maxTurns = 2_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (check()) return
    await turn()
  }
  throw new Error(`gave up after ${maxTurns} event-loop turns waiting for ${what}`)
}

/** A promise with its resolve, to hold a processor on a record until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void; opened: boolean } {
  let resolve!: () => void
  const g = {
    promise: new Promise<void>((r) => (resolve = r)),
    opened: false,
    open: () => {
      g.opened = true
      resolve()
    },
  }
  return g
}

/** Gates by name, created on first use, so a processor can wait on `gates.wait(offset)`. */
export class Gates {
  readonly #gates = new Map<string, ReturnType<typeof gate>>()
  #get(key: string | number): ReturnType<typeof gate> {
    let g = this.#gates.get(String(key))
    if (!g) this.#gates.set(String(key), (g = gate()))
    return g
  }
  wait(key: string | number): Promise<void> {
    return this.#get(key).promise
  }
  open(key: string | number): void {
    this.#get(key).open()
  }
}

export function rec(
  offset: number,
  { topic = 't', partition = 0, timestamp = T0 + offset, value = `v${offset}` } = {},
): ConsumedRecord {
  return {
    topic,
    partition,
    offset,
    timestamp,
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(value),
    headers: [],
  }
}

export const out = (value: string, topic = 'out'): ProducerRecord => ({ topic, value: Buffer.from(value) })

/** Decodes key and value as strings; a value of "bad" does not decode. */
export function decodeText(record: ConsumedRecord): AnyEvent {
  const value = record.value?.toString()
  if (value === 'bad') throw new Error('not a valid record')
  return new RecordEvent(record, record.key?.toString(), value)
}

interface SpecOptions {
  errors?: ErrorPolicy
  transform?: (event: AnyEvent, context: ProcessorContext) => Transformed | Promise<Transformed>
}

export function nodeSpec(
  name: string,
  topic: string,
  create: () => Processor,
  { errors = 'fail', transform }: SpecOptions = {},
): NodeSpec {
  return {
    kind: 'node',
    name,
    topic,
    decode: decodeText,
    errors,
    create,
    ...(transform ? { transform } : {}),
  }
}

export function agentSpec(
  name: string,
  topic: string,
  run: (source: EventSource, context: ProcessorContext) => Promise<void>,
  { errors = 'fail', transform, concurrency = 1 }: SpecOptions & { concurrency?: number } = {},
): AgentSpec {
  return {
    kind: 'agent',
    name,
    topic,
    decode: decodeText,
    errors,
    concurrency,
    run,
    ...(transform ? { transform } : {}),
  }
}

/** An agent body that handles events one at a time, as the DSL's iterator does (advance, then next). */
export function eachEvent(
  handle: (event: AnyEvent, context: ProcessorContext) => void | Promise<void>,
): (source: EventSource, context: ProcessorContext) => Promise<void> {
  return async (source, context) => {
    for (;;) {
      source.advance()
      const step = await source.next()
      if (step.done) return
      await handle(step.value, context)
    }
  }
}

export const subtopology = (id: number, ...processors: Array<AgentSpec | NodeSpec>): Subtopology => ({
  id,
  sourceTopics: [...new Set(processors.map((p) => p.topic))],
  processors,
  stores: [],
})

export interface Sent {
  readonly records: ProducerRecord[]
  readonly done: Delivered
  settled: boolean
}

/** A TaskHost on a ManualClock that records what the task does and leaves every send pending. */
export class FakeHost implements TaskHost {
  readonly clock = new ManualClock(T0)
  readonly groupId = 'fake-app'
  readonly sent: Sent[] = []
  readonly logs: Array<[LogLevel, string]> = []
  readonly progress: Array<[string, 'in' | 'out' | 'error']> = []
  readonly failures: Error[] = []
  readonly deadLetters: Array<{ record: ConsumedRecord; error: unknown; processor: string }> = []
  /** What deadLetter() answers: resolved by default; set to a rejection to test a refusal. */
  deadLetterResult: () => Promise<unknown> = () => Promise.resolve()

  produce(records: ProducerRecord[], done: Delivered): void {
    this.sent.push({ records, done, settled: false })
  }

  produceHeld(records: ProducerRecord[], owner: HeldOutputs, runner: unknown, held: unknown): void {
    this.produce(records, (error) => owner.outputsDelivered(runner, [held], records.length, error))
  }

  deadLetter(record: ConsumedRecord, error: unknown, processor: string): Promise<unknown> {
    this.deadLetters.push({ record, error, processor })
    return this.deadLetterResult()
  }

  log(level: LogLevel, message: string): void {
    this.logs.push([level, message])
  }

  onProgress(processor: string, event: 'in' | 'out' | 'error'): void {
    this.progress.push([processor, event])
  }

  onFailure(_task: StreamTask, error: Error): void {
    this.failures.push(error)
  }

  /** Acknowledges the i-th send (all pending ones when omitted). */
  ack(i?: number): void {
    for (const s of i === undefined ? this.sent : [this.sent[i]!]) {
      if (s.settled) continue
      s.settled = true
      s.done(undefined)
    }
  }

  /** Fails the i-th send. */
  refuse(i: number, error = new Error('broker said no')): void {
    const s = this.sent[i]!
    s.settled = true
    s.done(error)
  }

  /** The values sent, in send order. */
  values(): string[] {
    return this.sent.flatMap((s) => s.records.map((r) => r.value?.toString() ?? 'null'))
  }
}
