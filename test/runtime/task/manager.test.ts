import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { TaskManager } from '../../../src/runtime/task/manager.js'
import { buildSubtopologies, type Subtopology } from '../../../src/runtime/types.js'
import { FakeHost, nodeSpec } from './fakes.js'

const node = (name: string, topic: string) => nodeSpec(name, topic, () => ({ process: () => undefined }))

/** Two sub-topologies: 0 reads `a` (two processors), 1 reads `b`. */
function manager(): TaskManager {
  const subtopologies = buildSubtopologies([node('a1', 'a'), node('b1', 'b'), node('a2', 'a')])
  return new TaskManager(subtopologies, new FakeHost())
}

describe('TaskManager', () => {
  test('groups processors of one topic into one sub-topology', () => {
    const m = manager()
    assert.deepEqual(
      m.subtopologies.map((s) => [s.id, s.sourceTopics, s.processors.map((p) => p.name)]),
      [
        [0, ['a'], ['a1', 'a2']],
        [1, ['b'], ['b1']],
      ],
    )
  })

  test('creates one task per sub-topology and partition for partitions of two topics', () => {
    const m = manager()
    const created = m.create([
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 },
      { topic: 'b', partition: 0 },
      { topic: 'unknown', partition: 0 },
    ])
    assert.deepEqual(
      created.map((t) => t.id),
      ['0_0', '0_1', '1_0'],
    )
    assert.equal(m.get('0_1'), created[1])
    assert.equal(created[0]!.runners.length, 2, 'both processors of topic a run in task 0_0')
    assert.equal(created[0]!.state, 'created')
    assert.deepEqual(m.create([{ topic: 'a', partition: 0 }]), [], 'an existing task is not created again')
    assert.equal(m.tasks().length, 3)
  })

  test('taskFor finds the task of a partition, and nothing for one not assigned', () => {
    const m = manager()
    const [a0, a1, b0] = m.create([
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 },
      { topic: 'b', partition: 0 },
    ])
    assert.equal(m.taskFor('a', 0), a0)
    assert.equal(m.taskFor('a', 1), a1)
    assert.equal(m.taskFor('b', 0), b0)
    assert.equal(m.taskFor('b', 1), undefined)
    assert.equal(m.taskFor('unknown', 0), undefined)
  })

  test('tasksOf gives each task reading the partitions once', () => {
    const m = manager()
    const [a0, , b0] = m.create([
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 },
      { topic: 'b', partition: 0 },
    ])
    const found = m.tasksOf([
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 0 },
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 9 },
    ])
    assert.deepEqual(found, [a0, b0])
  })

  test('partitions of two co-partitioned topics of one sub-topology share one task', () => {
    const processors = [node('x', 'left'), node('y', 'right')]
    const joined: Subtopology = { id: 4, sourceTopics: ['left', 'right'], processors, stores: [] }
    const m = new TaskManager([joined], new FakeHost())
    const created = m.create([
      { topic: 'left', partition: 2 },
      { topic: 'right', partition: 2 },
    ])
    assert.deepEqual(
      created.map((t) => t.id),
      ['4_2'],
    )
    assert.equal(m.taskFor('left', 2), created[0])
    assert.equal(m.taskFor('right', 2), created[0])
    assert.deepEqual(m.tasksOf([{ topic: 'right', partition: 2 }]), created)
    assert.deepEqual(created[0]!.partitions, [
      { topic: 'left', partition: 2 },
      { topic: 'right', partition: 2 },
    ])
  })

  test('remove forgets the tasks and their partitions, and leaves the others', () => {
    const m = manager()
    const [a0, a1, b0] = m.create([
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 },
      { topic: 'b', partition: 0 },
    ])
    m.remove([a0!, b0!])
    assert.deepEqual(m.tasks(), [a1])
    assert.equal(m.get('0_0'), undefined)
    assert.equal(m.taskFor('a', 0), undefined)
    assert.equal(m.taskFor('b', 0), undefined)
    assert.equal(m.taskFor('a', 1), a1)
    assert.deepEqual(
      m.create([{ topic: 'a', partition: 0 }]).map((t) => t.id),
      ['0_0'],
      'it can be created again',
    )
  })

  test('remove of a task that was replaced leaves its successor in place', () => {
    const m = manager()
    const [old] = m.create([{ topic: 'a', partition: 0 }])
    m.remove([old!])
    const [successor] = m.create([{ topic: 'a', partition: 0 }])
    m.remove([old!])
    assert.equal(m.get('0_0'), successor)
    assert.equal(m.taskFor('a', 0), successor)
  })
})
