/**
 * The worker's tasks (Kafka Streams' TaskManager): which task a fetched record belongs to, tasks
 * created for what the group assigned, and the set the commit and the rebalance callbacks act on.
 * Creating and closing tasks is here; draining, committing and the order of the two are the
 * worker's (worker.ts), because the commit protocol sits between them.
 */
import type { TopicPartition } from '../../transport/types.js'
import type { Subtopology } from '../types.js'
import { StreamTask, taskId, type TaskHost } from './task.js'

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`

export class TaskManager {
  readonly #subtopologies: readonly Subtopology[]
  readonly #host: TaskHost
  readonly #tasks = new Map<string, StreamTask>()
  readonly #byPartition = new Map<string, StreamTask>()
  readonly #byTopic = new Map<string, Subtopology>()

  constructor(subtopologies: readonly Subtopology[], host: TaskHost) {
    this.#subtopologies = subtopologies
    this.#host = host
    for (const s of subtopologies) for (const topic of s.sourceTopics) this.#byTopic.set(topic, s)
  }

  get subtopologies(): readonly Subtopology[] {
    return this.#subtopologies
  }

  tasks(): StreamTask[] {
    return [...this.#tasks.values()]
  }

  get(id: string): StreamTask | undefined {
    return this.#tasks.get(id)
  }

  /** The task a record of this partition goes to. */
  taskFor(topic: string, partition: number): StreamTask | undefined {
    return this.#byPartition.get(tpKey(topic, partition))
  }

  /** The tasks that read any of these partitions. */
  tasksOf(partitions: readonly TopicPartition[]): StreamTask[] {
    const found = new Set<StreamTask>()
    for (const { topic, partition } of partitions) {
      const task = this.#byPartition.get(tpKey(topic, partition))
      if (task) found.add(task)
    }
    return [...found]
  }

  /** Creates the tasks of newly assigned partitions (one per sub-topology and partition). */
  create(partitions: readonly TopicPartition[]): StreamTask[] {
    const created: StreamTask[] = []
    for (const { topic, partition } of partitions) {
      const subtopology = this.#byTopic.get(topic)
      if (!subtopology) continue
      const id = taskId(subtopology.id, partition)
      let task = this.#tasks.get(id)
      if (!task) {
        task = new StreamTask(subtopology, partition, this.#host)
        this.#tasks.set(id, task)
        created.push(task)
      }
      this.#byPartition.set(tpKey(topic, partition), task)
    }
    return created
  }

  /** Forgets closed tasks. */
  remove(tasks: readonly StreamTask[]): void {
    for (const task of tasks) {
      if (this.#tasks.get(task.id) !== task) continue
      this.#tasks.delete(task.id)
      for (const { topic, partition } of task.partitions) {
        if (this.#byPartition.get(tpKey(topic, partition)) === task)
          this.#byPartition.delete(tpKey(topic, partition))
      }
    }
  }
}
