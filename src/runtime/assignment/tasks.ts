/** Builds the tasks of a generation from the sub-topologies and the topics' partition counts. */
import type { PlacementUnit, Subtopology, Task } from './types.js'
import { taskId } from './task-ids.js'

/**
 * Every task, in task id order. A sub-topology has as many tasks as its largest source topic has
 * partitions (a missing topic counts 0, so one whose topics are all missing has none); task p reads
 * partition p of each source topic that has it. Unequal counts are a user error that
 * copartitionWarnings reports; the tasks are still built so that every partition is read.
 */
export function buildTasks(
  subtopologies: readonly Subtopology[],
  partitionCounts: ReadonlyMap<string, number>,
): Task[] {
  const tasks: Task[] = []
  for (const sub of [...subtopologies].sort((a, b) => a.id - b.id)) {
    const topics = [...sub.sourceTopics].sort()
    const counts = topics.map((topic) => partitionCounts.get(topic) ?? 0)
    const count = Math.max(0, ...counts)
    for (let partition = 0; partition < count; partition++) {
      const partitions = topics
        .filter((_, i) => counts[i]! > partition)
        .map((topic) => ({ topic, partition }))
      tasks.push({ id: taskId(sub.id, partition), subtopology: sub.id, partition, partitions })
    }
  }
  return tasks
}

/**
 * Groups tasks into placement units: the tasks of one partition number across the sub-topologies
 * of a co-location group form one unit (so a record and its repartitioned descendants are handled,
 * and queried, on one member); any other task is a unit alone. Units come in id order.
 */
export function buildUnits(tasks: readonly Task[], subtopologies: readonly Subtopology[]): PlacementUnit[] {
  const group = new Map(subtopologies.map((sub) => [sub.id, sub.colocate]))
  // In task order, a unit's first task comes first and the units come in the order of their first
  // tasks, with no string comparison of ids.
  const ordered = [...tasks].sort((a, b) => a.subtopology - b.subtopology || a.partition - b.partition)
  const members = new Map<string, Task[]>()
  for (const task of ordered) {
    const colocate = group.get(task.subtopology)
    const key = colocate === undefined ? `t${task.id}` : `c${colocate}_${task.partition}`
    const list = members.get(key)
    if (list) list.push(task)
    else members.set(key, [task])
  }
  return [...members.values()].map((list): PlacementUnit => {
    const topics = new Set(list.flatMap((task) => task.partitions.map((tp) => tp.topic)))
    return { id: list[0]!.id, tasks: list.map((task) => task.id), topics: [...topics].sort() }
  })
}
