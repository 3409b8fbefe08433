/**
 * The group part of the transport contract: the leader member's assignor and its user data,
 * generations (onGeneration), the cooperative hand-over, enforceRebalance and static membership.
 * Called from contract.ts, so it runs unchanged on memory:// and on a real Kafka broker.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { TributaryError } from '../../src/errors.js'
import { stickyAssignor } from '../../src/transport/group/sticky-assignor.js'
import type {
  Consumer,
  ConsumerOptions,
  GenerationInfo,
  GroupAssignor,
  MemberAssignment,
  RebalanceListener,
  TopicPartition,
  Transport,
} from '../../src/transport/types.js'
import { tpKey } from './helpers.js'

export interface ContractContext {
  transport(): Transport
  createTopic(name: string, partitions: number): Promise<string>
  groupOptions: Pick<ConsumerOptions, 'sessionTimeoutMs' | 'heartbeatIntervalMs'>
}

/** One group member with everything its listener was told, in order. */
interface Member {
  name: string
  consumer: Consumer
  generations: GenerationInfo[]
  /** 'generation N', 'assigned t[0],t[1]', 'revoked ...', 'lost ...', in call order. */
  events: string[]
}

const list = (tps: TopicPartition[]): string => tps.map(tpKey).sort().join(',')

/**
 * Records every callback, and who owns what across all members: a partition assigned to a member
 * while another still owns it (has not revoked or lost it) is a violation.
 */
function recording(member: Member, owners: Map<string, string>, violations: string[]): RebalanceListener {
  const release = (tps: TopicPartition[]): void => {
    for (const tp of tps) if (owners.get(tpKey(tp)) === member.name) owners.delete(tpKey(tp))
  }
  return {
    onGeneration: (info) => {
      member.generations.push(info)
      member.events.push(`generation ${info.generation}`)
    },
    onAssigned: (tps) => {
      member.events.push(`assigned ${list(tps)}`)
      for (const tp of tps) {
        const owner = owners.get(tpKey(tp))
        if (owner !== undefined && owner !== member.name)
          violations.push(`${tpKey(tp)} assigned to ${member.name} while ${owner} owned it`)
        owners.set(tpKey(tp), member.name)
      }
    },
    onRevoked: (tps) => {
      member.events.push(`revoked ${list(tps)}`)
      release(tps)
    },
    onLost: (tps) => {
      member.events.push(`lost ${list(tps)}`)
      release(tps)
    },
  }
}

/** Polls every member (errors of `tolerate` members are kept, not thrown) until `done` holds. */
async function drive(
  members: Member[],
  what: string,
  done: () => boolean,
  options: { timeoutMs?: number; tolerate?: Member[]; errors?: unknown[] } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  while (!done()) {
    if (Date.now() > deadline) {
      const state = members.map((m) => `${m.name}: ${m.events.join('; ')}`).join(' | ')
      throw new Error(`timed out waiting for ${what} (${state})`)
    }
    await Promise.all(
      members.map(async (m) => {
        try {
          await m.consumer.poll({ timeoutMs: 100 })
        } catch (error) {
          if (!options.tolerate?.includes(m)) throw error
          options.errors?.push(error)
        }
      }),
    )
  }
}

/** Each generation is reported once, in increasing order, before that generation's callbacks. */
function assertGenerationOrder(member: Member): void {
  const numbers = member.generations.map((g) => g.generation)
  for (let i = 1; i < numbers.length; i++)
    assert.ok(numbers[i]! > numbers[i - 1]!, `${member.name}: generations ${numbers.join(',')} increase`)
  const first = member.events.findIndex((e) => !e.startsWith('generation'))
  if (first >= 0)
    assert.ok(first > 0, `${member.name}: onGeneration came first (${member.events.join('; ')})`)
}

export function groupContract(ctx: ContractContext): void {
  const members: Member[] = []
  const owners = new Map<string, string>()
  const violations: string[] = []

  function member(name: string, groupId: string, extra: ConsumerOptions = {}): Member {
    const consumer = ctx.transport().consumer({
      groupId,
      clientId: name,
      offsetReset: 'earliest',
      ...ctx.groupOptions,
      ...extra,
    })
    const m: Member = { name, consumer, generations: [], events: [] }
    members.push(m)
    return m
  }
  async function closeAll(): Promise<void> {
    await Promise.all(members.splice(0).map((m) => m.consumer.close().catch(() => undefined)))
    owners.clear()
    violations.length = 0
  }
  const latest = (m: Member): GenerationInfo | undefined => m.generations.at(-1)
  const decoded = (info: GenerationInfo | undefined): Record<string, string> =>
    info?.assignment.userData
      ? (JSON.parse(info.assignment.userData.toString()) as Record<string, string>)
      : {}

  test(`a custom assignor's user data travels from every member to the leader and back to every member`, async () => {
    const topic = await ctx.createTopic('userdata', 4)
    const groupId = `g-${randomUUID()}`
    // Each member's own assignor instance: its user data is its name, and it signs what it plans.
    const directory = (name: string): GroupAssignor => ({
      name: 'contract-directory',
      userData: () => Buffer.from(name),
      assign(subscriptions, counts) {
        const plan = stickyAssignor.assign(subscriptions, counts)
        const everyone = subscriptions.map((s) => s.userData?.toString() ?? '?').sort()
        return new Map(
          subscriptions.map((s): [string, MemberAssignment] => [
            s.memberId,
            {
              partitions: plan.get(s.memberId)?.partitions ?? [],
              userData: Buffer.from(
                JSON.stringify({ leader: name, directory: everyone.join(','), you: s.userData?.toString() }),
              ),
            },
          ]),
        )
      },
    })
    try {
      const [a, b] = [member('a', groupId), member('b', groupId)]
      await a.consumer.subscribe([topic], recording(a, owners, violations), { assignor: directory('a') })
      await b.consumer.subscribe([topic], recording(b, owners, violations), { assignor: directory('b') })
      await drive(
        [a, b],
        'a generation with both members, two partitions each',
        () =>
          [a, b].every(
            (m) => decoded(latest(m)).directory === 'a,b' && m.consumer.assignment().length === 2,
          ) && latest(a)!.generation === latest(b)!.generation,
      )
      const infos = [latest(a)!, latest(b)!]
      const leaders = infos.filter((info) => info.leader)
      assert.equal(leaders.length, 1, 'exactly one leader in the generation')
      const leaderName = leaders[0] === infos[0] ? 'a' : 'b'
      for (const [i, info] of infos.entries()) {
        const data = decoded(info)
        assert.equal(data.leader, leaderName, "the leader's assignor planned for everyone")
        assert.equal(data.you, ['a', 'b'][i], "each member's own user data reached the leader")
        assert.equal(list(info.assignment.partitions), list([a, b][i]!.consumer.assignment()))
      }
      assert.notEqual(infos[0]!.memberId, infos[1]!.memberId)
      assert.deepEqual(violations, [])
      for (const m of [a, b]) assertGenerationOrder(m)
    } finally {
      await closeAll()
    }
  })

  test(`the leader's plan is applied as given, and a moving partition never has two owners at once`, async () => {
    const topic = await ctx.createTopic('plan', 4)
    const groupId = `g-${randomUUID()}`
    // Everything goes to the member whose user data is "taker" (or to one member when none is).
    const greedy = (role: string): GroupAssignor => ({
      name: 'contract-greedy',
      userData: () => Buffer.from(role),
      assign(subscriptions, counts) {
        const taker =
          subscriptions.find((s) => s.userData?.toString() === 'taker') ??
          [...subscriptions].sort((x, y) => (x.memberId < y.memberId ? -1 : 1))[0]!
        const all: TopicPartition[] = []
        for (const [t, count] of counts) for (let p = 0; p < count; p++) all.push({ topic: t, partition: p })
        return new Map(
          subscriptions.map((s): [string, MemberAssignment] => [
            s.memberId,
            { partitions: s === taker ? all : [], userData: null },
          ]),
        )
      },
    })
    try {
      const giver = member('giver', groupId)
      await giver.consumer.subscribe([topic], recording(giver, owners, violations), {
        assignor: greedy('giver'),
      })
      await drive([giver], 'the giver to own all four', () => giver.consumer.assignment().length === 4)
      const taker = member('taker', groupId)
      await taker.consumer.subscribe([topic], recording(taker, owners, violations), {
        assignor: greedy('taker'),
      })
      // The taker polls on its own first: whatever it is given must have been revoked by the giver.
      for (let i = 0; i < 3; i++) await taker.consumer.poll({ timeoutMs: 100 })
      await drive(
        [giver, taker],
        'the taker to own all four',
        () => taker.consumer.assignment().length === 4 && giver.consumer.assignment().length === 0,
      )
      assert.deepEqual(violations, [], 'no partition had two owners')
      const all = list(taker.consumer.assignment())
      assert.ok(
        giver.events.includes(`revoked ${all}`),
        `the giver revoked all four: ${giver.events.join('; ')}`,
      )
      assert.ok(!giver.events.some((e) => e.startsWith('lost')), 'a live owner revokes, it does not lose')
      assert.equal(list(latest(taker)!.assignment.partitions), all)
      assert.deepEqual(latest(giver)!.assignment.partitions, [])
      for (const m of [giver, taker]) assertGenerationOrder(m)
    } finally {
      await closeAll()
    }
  })

  test(`enforceRebalance starts a new generation in which the assignors are asked again`, async () => {
    const topic = await ctx.createTopic('enforce', 2)
    const groupId = `g-${randomUUID()}`
    let version = 1
    // The plan echoes each member's current user data back to it.
    const echo: GroupAssignor = {
      name: 'contract-echo',
      userData: () => Buffer.from(`v${version}`),
      assign(subscriptions, counts) {
        const plan = stickyAssignor.assign(subscriptions, counts)
        return new Map(
          subscriptions.map((s): [string, MemberAssignment] => [
            s.memberId,
            { partitions: plan.get(s.memberId)?.partitions ?? [], userData: s.userData },
          ]),
        )
      },
    }
    try {
      const m = member('solo', groupId)
      await m.consumer.subscribe([topic], recording(m, owners, violations), { assignor: echo })
      await drive([m], 'the first generation', () => m.consumer.assignment().length === 2)
      const first = latest(m)!
      assert.equal(first.assignment.userData?.toString(), 'v1')
      assert.equal(first.leader, true, 'a lone member leads')
      version = 2
      m.consumer.enforceRebalance('user data changed')
      await drive(
        [m],
        'a generation with the new user data',
        () => latest(m)?.assignment.userData?.toString() === 'v2',
      )
      const second = latest(m)!
      assert.ok(second.generation > first.generation, `generation ${second.generation} > ${first.generation}`)
      assert.equal(list(second.assignment.partitions), list(first.assignment.partitions))
      assert.equal(list(m.consumer.assignment()), list(first.assignment.partitions))
      assert.ok(!m.events.some((e) => e.startsWith('revoked') || e.startsWith('lost')), m.events.join('; '))
      assertGenerationOrder(m)
    } finally {
      await closeAll()
    }
  })

  test(`a static member replaced by a newer one with its groupInstanceId loses its partitions, which the newcomer keeps in the same generation`, async () => {
    const topic = await ctx.createTopic('static', 2)
    const groupId = `g-${randomUUID()}`
    const groupInstanceId = `instance-${randomUUID().slice(0, 8)}`
    try {
      const old = member('old', groupId, { groupInstanceId })
      await old.consumer.subscribe([topic], recording(old, owners, violations))
      await drive(
        [old],
        'the old instance to own both partitions',
        () => old.consumer.assignment().length === 2,
      )
      const before = latest(old)!
      const fresh = member('fresh', groupId, { groupInstanceId })
      await fresh.consumer.subscribe([topic], recording(fresh, owners, violations))
      const errors: unknown[] = []
      await drive(
        [old, fresh],
        'the newcomer to own both partitions and the old instance to learn it lost them',
        () => fresh.consumer.assignment().length === 2 && old.events.some((e) => e.startsWith('lost')),
        { tolerate: [old], errors },
      )
      assert.ok(old.events.includes(`lost ${list(before.assignment.partitions)}`), old.events.join('; '))
      assert.ok(!old.events.some((e) => e.startsWith('revoked')), 'a fenced member loses, it does not revoke')
      assert.equal(latest(fresh)!.generation, before.generation, 'no rebalance: the generation stays')
      assert.equal(list(fresh.consumer.assignment()), list(before.assignment.partitions))
      assert.deepEqual(old.consumer.assignment(), [])
      await assert.rejects(old.consumer.commit([{ topic, partition: 0, offset: 0 }]), (error: unknown) => {
        assert.ok(error instanceof TributaryError, String(error))
        assert.equal(error.code, 'REBALANCE', error.message)
        return true
      })
      await fresh.consumer.commit([{ topic, partition: 0, offset: 0 }])
    } finally {
      await closeAll()
    }
  })
}
