/**
 * kafka:// group membership beyond the contract: a stale generation cannot commit, static members
 * (KIP-345) come back to their partitions and fence a duplicate, the assignor's user data travels
 * byte for byte, and enforceRebalance starts a new generation even for an unchanged follower.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type {
  Consumer,
  GenerationInfo,
  GroupAssignor,
  MemberAssignment,
  TopicPartition,
  Transport,
} from '../../../src/transport/types.js'
import { ChildMember } from './child-member.js'
import { createTopic, open, rejectsWith } from './helpers.js'

const fast = { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 300 }
const partitions = (tps: TopicPartition[]): number[] => tps.map((tp) => tp.partition).sort((a, b) => a - b)

/** Polls every consumer until `done` holds; rethrows what a poll threw. */
async function pollWhile(
  consumers: Consumer[],
  done: () => boolean,
  what: string,
  timeoutMs = 45_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`)
    await Promise.all(consumers.map((c) => c.poll({ timeoutMs: 50 })))
  }
}

/** A round-robin assignor that tells each member, in its assignment's user data, what it heard from it. */
function echoAssignor(name: string, tag: () => string): GroupAssignor & { heard: string[][] } {
  const heard: string[][] = []
  return {
    name,
    heard,
    userData: () => Buffer.from(tag()),
    assign(members, counts) {
      heard.push(members.map((m) => m.userData?.toString() ?? '<null>').sort())
      const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1))
      const plan = new Map<string, MemberAssignment>(
        sorted.map((m) => [
          m.memberId,
          { partitions: [], userData: Buffer.from(`for:${m.userData?.toString()}`) },
        ]),
      )
      let i = 0
      for (const [topic, count] of counts)
        for (let partition = 0; partition < count; partition++)
          plan.get(sorted[i++ % sorted.length]!.memberId)!.partitions.push({ topic, partition })
      return plan
    },
  }
}

describe('kafka:// group membership', () => {
  let transport: Transport
  before(() => {
    transport = open()
  })
  after(async () => {
    await transport.close()
  })

  test('a member frozen past its session cannot commit for its old generation: REBALANCE, onLost, and the new owner keeps its commit', async () => {
    const topic = await createTopic(transport, 2)
    const groupId = `g-${randomUUID()}`
    const a = new ChildMember({ topic, groupId, sessionTimeoutMs: 3_000 })
    const b = transport.consumer({ groupId, ...fast })
    try {
      await a.until('both partitions', (e) => e.event === 'assigned' && e.partitions?.length === 2)
      // Frozen (a long GC pause, a stopped VM): no heartbeat, so the group moves on without it.
      a.signal('SIGSTOP')
      await b.subscribe([topic])
      await pollWhile([b], () => b.assignment().length === 2, 'b owns both partitions')
      await b.commit([{ topic, partition: 0, offset: 7 }])
      a.signal('SIGCONT')
      // At once, before its own heartbeat is answered: the commit goes out under the old generation.
      a.send({ commit: [{ topic, partition: 0, offset: 3 }] })
      const result = await a.until('a commit result', (e) => e.event === 'commit')
      assert.equal(result.code, 'REBALANCE', 'a stale generation commit is refused, never applied')
      await a.until('onLost', (e) => e.event === 'lost')
      assert.deepEqual(
        a.events.filter((e) => e.event === 'revoked'),
        [],
        'onLost, not onRevoked, when the membership was lost',
      )
      const [committed] = await b.committed([{ topic, partition: 0 }])
      assert.equal(committed?.offset, 7)
      // Then it joins again, as a new member, and gets its share back through a hand-over.
      const lostAt = a.events.findIndex((e) => e.event === 'lost')
      await pollWhile([b], () => a.events.some((e, i) => i > lostAt && e.event === 'assigned'), 'a rejoined')
    } finally {
      await a.kill()
      await b.close()
    }
  })

  test('a static member that crashed and comes back with its instance id within the session timeout gets its partitions back', async () => {
    const topic = await createTopic(transport, 4)
    const groupId = `g-${randomUUID()}`
    const long = { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 300 }
    const a = new ChildMember({
      topic,
      groupId,
      instanceId: 'worker-a',
      sessionTimeoutMs: long.sessionTimeoutMs,
    })
    const b = transport.consumer({ groupId, groupInstanceId: 'worker-b', ...long })
    let restarted: ChildMember | undefined
    const bGot: number[][] = []
    try {
      await a.until('all partitions', (e) => e.event === 'assigned' && e.partitions?.length === 4)
      await b.subscribe([topic], { onAssigned: (tps) => void bGot.push(partitions(tps)) })
      await pollWhile([b], () => b.assignment().length === 2 && a.owned().length === 2, 'two each')
      const theirs = a.owned()
      const ours = partitions(b.assignment())
      // It was the group's leader (it joined first): back in a stable group, the coordinator tells
      // it not to assign (KIP-814 skipAssignment) and hands every member its current assignment.
      await a.kill()
      restarted = new ChildMember({
        topic,
        groupId,
        instanceId: 'worker-a',
        sessionTimeoutMs: long.sessionTimeoutMs,
      })
      await restarted.until('its partitions back', (e) => e.event === 'assigned')
      await pollWhile([b], () => restarted!.owned().length === 2, 'the restarted member holds two')
      assert.deepEqual(restarted.owned(), theirs, 'the same partitions as before the crash')
      assert.deepEqual(partitions(b.assignment()), ours, 'the other member kept its own')
      assert.ok(
        bGot.flat().every((p) => ours.includes(p)),
        `b never took the crashed member's partitions (got ${JSON.stringify(bGot)})`,
      )
    } finally {
      await a.kill()
      await restarted?.kill()
      await b.close()
    }
  })

  test('closing a static member leaves the group with its instance id: its partitions move at once, not after the session timeout', async () => {
    const topic = await createTopic(transport, 2)
    const groupId = `g-${randomUUID()}`
    const long = { sessionTimeoutMs: 120_000, heartbeatIntervalMs: 300 }
    const a = transport.consumer({ groupId, groupInstanceId: 'a', ...long })
    const b = transport.consumer({ groupId, groupInstanceId: 'b', ...long })
    try {
      await a.subscribe([topic])
      await b.subscribe([topic])
      await pollWhile([a, b], () => a.assignment().length === 1 && b.assignment().length === 1, 'one each')
      await a.close()
      await pollWhile([b], () => b.assignment().length === 2, 'b takes over well within the 120 s session')
    } finally {
      await a.close()
      await b.close()
    }
  })

  test('a second consumer with the same groupInstanceId fences the first, whose poll then fails FENCED', async () => {
    const topic = await createTopic(transport, 1)
    const groupId = `g-${randomUUID()}`
    const first = transport.consumer({ groupId, groupInstanceId: 'twin', ...fast })
    const second = transport.consumer({ groupId, groupInstanceId: 'twin', ...fast })
    try {
      await first.subscribe([topic])
      await second.subscribe([topic])
      // Polls the fenced one until its poll fails (the next heartbeat tells it), the other meanwhile.
      const firstFails = (async () => {
        const deadline = Date.now() + 30_000
        while (Date.now() < deadline) {
          await first.poll({ timeoutMs: 100 })
          await second.poll({ timeoutMs: 10 })
        }
      })()
      await rejectsWith(firstFails, 'FENCED', /twin/)
      await pollWhile([second], () => second.assignment().length === 1, 'the newcomer owns the partition')
      assert.deepEqual(first.assignment(), [])
    } finally {
      await first.close()
      await second.close()
    }
  })

  test("the assignor sees every member's user data and each member gets its own in onGeneration, before onAssigned", async () => {
    const topic = await createTopic(transport, 4)
    const groupId = `g-${randomUUID()}`
    const tags = { a: 'alpha', b: 'beta' }
    const assignors = {
      a: echoAssignor('test-echo', () => tags.a),
      b: echoAssignor('test-echo', () => tags.b),
    }
    const calls: Record<'a' | 'b', string[]> = { a: [], b: [] }
    const infos: Record<'a' | 'b', GenerationInfo[]> = { a: [], b: [] }
    const consumers = {
      a: transport.consumer({ groupId, ...fast }),
      b: transport.consumer({ groupId, ...fast }),
    }
    const listener = (name: 'a' | 'b') => ({
      onGeneration: (info: GenerationInfo) => {
        infos[name].push(info)
        calls[name].push(`generation ${info.generation}`)
      },
      onAssigned: () => void calls[name].push('assigned'),
    })
    try {
      await consumers.a.subscribe([topic], listener('a'), { assignor: assignors.a })
      await consumers.b.subscribe([topic], listener('b'), { assignor: assignors.b })
      const both = (): boolean =>
        consumers.a.assignment().length === 2 && consumers.b.assignment().length === 2
      await pollWhile([consumers.a, consumers.b], both, 'round robin over two members')
      const heard = [...assignors.a.heard, ...assignors.b.heard]
      assert.ok(
        heard.some((h) => h.join() === 'alpha,beta'),
        `the leader saw both members' user data: ${JSON.stringify(heard)}`,
      )
      for (const name of ['a', 'b'] as const) {
        const last = infos[name].at(-1)!
        assert.equal(last.assignment.userData?.toString(), `for:${tags[name]}`)
        assert.deepEqual(partitions(last.assignment.partitions), partitions(consumers[name].assignment()))
        assert.match(calls[name][0]!, /^generation /, 'onGeneration comes first')
        assert.ok(calls[name].indexOf('assigned') > 0)
      }
      // The user data is asked at every join: a changed tag and enforceRebalance reach the leader.
      tags.a = 'gamma'
      consumers.a.enforceRebalance('tag changed')
      const told = (): boolean => infos.a.at(-1)?.assignment.userData?.toString() === 'for:gamma'
      await pollWhile([consumers.a, consumers.b], told, 'the new user data went round')
      // All members must agree on the protocol (the assignor's name): another name is refused.
      const stranger = transport.consumer({ groupId, ...fast })
      await rejectsWith(
        stranger.subscribe([topic], {}, { assignor: echoAssignor('test-other', () => 'x') }),
        'INVALID_ARGUMENT',
      )
      await stranger.close()
    } finally {
      await consumers.a.close()
      await consumers.b.close()
    }
  })

  test('enforceRebalance by a follower that owns nothing (so its subscription is unchanged) still starts a new generation', async () => {
    const topic = await createTopic(transport, 1)
    const groupId = `g-${randomUUID()}`
    const infos = new Map<Consumer, GenerationInfo[]>()
    const members = [0, 1, 2].map(() => {
      const consumer = transport.consumer({ groupId, ...fast })
      infos.set(consumer, [])
      return consumer
    })
    const latest = (c: Consumer): GenerationInfo | undefined => infos.get(c)!.at(-1)
    try {
      for (const m of members)
        await m.subscribe([topic], { onGeneration: (info) => void infos.get(m)!.push(info) })
      const settled = (): boolean => {
        const generations = new Set(members.map((m) => latest(m)?.generation))
        return generations.size === 1 && members.reduce((n, m) => n + m.assignment().length, 0) === 1
      }
      await pollWhile(members, settled, 'one generation, one owner')
      // Its JoinGroup metadata (no partitions, generation -1) is what it sent last time: only the
      // nonce makes the coordinator see a change and rebalance.
      const idle = members.find((m) => !latest(m)!.leader && m.assignment().length === 0)!
      const before = latest(idle)!.generation
      idle.enforceRebalance('probing')
      await pollWhile(
        members,
        () => (latest(idle)?.generation ?? 0) > before,
        'a generation after the enforced rebalance',
      )
      assert.equal(
        members.reduce((n, m) => n + m.assignment().length, 0),
        1,
      )
    } finally {
      await Promise.all(members.map((m) => m.close()))
    }
  })
})
