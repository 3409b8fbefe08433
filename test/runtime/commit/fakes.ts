/**
 * Fakes for the commit tests: tasks reduced to what the commit protocol reads (committable offsets,
 * partition, state manager), a state manager and a consumer that write every call into one shared
 * log, so a test can check the order of flush, commit and checkpoint.
 */
import type { StateManager } from '../../../src/runtime/task/state-manager.js'
import type { StreamTask } from '../../../src/runtime/task/task.js'
import type { Consumer, TopicPartitionOffset } from '../../../src/transport/types.js'

export type Calls = string[]

const text = (offsets: readonly TopicPartitionOffset[]): string =>
  offsets.map((o) => `${o.topic}[${o.partition}]@${o.offset}`).join(' ')

export class FakeStateManager implements StateManager {
  /** Set to make flush() wait until the test resolves it. */
  flushGate: Promise<void> | undefined
  readonly checkpoints: TopicPartitionOffset[][] = []

  constructor(
    readonly name: string,
    readonly calls: Calls,
  ) {}

  restore(): Promise<void> {
    return Promise.resolve()
  }
  async flush(): Promise<void> {
    this.calls.push(`flush ${this.name}`)
    await this.flushGate
    this.calls.push(`flushed ${this.name}`)
  }
  checkpoint(committed: readonly TopicPartitionOffset[]): void {
    this.checkpoints.push([...committed])
    this.calls.push(`checkpoint ${this.name} ${text(committed)}`.trimEnd())
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
  offsets(): number {
    return 0
  }
  readonly stateful = false
  store(): undefined {
    return undefined
  }
  windowStats(): undefined {
    return undefined
  }
  reset(): void {}
  stats(): [] {
    return []
  }
}

export interface FakeTask {
  readonly task: StreamTask
  readonly state: FakeStateManager
  /** Sets the committable offset of a topic of this task. */
  set(topic: string, offset: number): void
}

/** A task of `partition` whose committable offsets the test sets by hand. */
export function fakeTask(id: string, partition: number, calls: Calls): FakeTask {
  const offsets = new Map<string, number>()
  const state = new FakeStateManager(id, calls)
  const task = {
    id,
    partition,
    stateManager: state,
    /** The source partitions: those the test gave an offset. */
    get partitions() {
      return [...offsets.keys()].map((topic) => ({ topic, partition }))
    },
    committable: (): TopicPartitionOffset[] =>
      [...offsets].map(([topic, offset]) => ({ topic, partition, offset })),
  } as unknown as StreamTask
  return { task, state, set: (topic, offset) => void offsets.set(topic, offset) }
}

/** A consumer whose commit() logs its offsets and answers as `answer` says (resolved by default). */
export function fakeConsumer(calls: Calls): {
  consumer: Consumer
  commits: TopicPartitionOffset[][]
  answer: (offsets: TopicPartitionOffset[]) => Promise<void>
} {
  const fake = {
    consumer: undefined as unknown as Consumer,
    commits: [] as TopicPartitionOffset[][],
    answer: (_offsets: TopicPartitionOffset[]): Promise<void> => Promise.resolve(),
  }
  fake.consumer = {
    commit: async (offsets: TopicPartitionOffset[]) => {
      fake.commits.push(offsets)
      calls.push(`commit ${text(offsets)}`)
      await fake.answer(offsets)
      calls.push(`committed ${text(offsets)}`)
    },
  } as unknown as Consumer
  return fake
}
