import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { TributaryError } from '../../../src/errors.js'
import { stickyAssignor } from '../../../src/transport/group/sticky-assignor.js'
import type {
  Admin,
  Consumer,
  GenerationInfo,
  GroupAssignor,
  MemberSubscription,
  TopicPartition,
} from '../../../src/transport/types.js'
import { fixture, type Fixture } from './helpers.js'

const key = (tp: TopicPartition) => `${tp.topic}[${tp.partition}]`
const code = (c: string, message?: RegExp) => (error: unknown) =>
  error instanceof TributaryError && error.code === c && (!message || message.test(error.message))

/** A sticky assignor that records each call it gets: which member ran it, and what it was told. */
class Spy implements GroupAssignor {
  readonly name: string = 'spy'
  readonly calls: MemberSubscription[][] = []
  fail: Error | undefined

  constructor(readonly label: string) {}

  userData(): Buffer {
    return Buffer.from(this.label)
  }

  assign(members: readonly MemberSubscription[], counts: ReadonlyMap<string, number>) {
    if (this.fail) throw this.fail
    this.calls.push([...members])
    return stickyAssignor.assign(members, counts)
  }
}

describe('memory:// group assignors', () => {
  let f: Fixture
  let admin: Admin

  beforeEach(async () => {
    f = fixture()
    admin = f.transport.admin()
    await admin.createTopics([{ topic: 't', partitions: 4 }])
  })
  afterEach(() => f.close())

  const consumer = (clientId: string, groupInstanceId?: string): Consumer =>
    f.transport.consumer({ groupId: 'g', clientId, ...(groupInstanceId ? { groupInstanceId } : {}) })

  test("only the longest-standing member's assignor plans, and the next oldest takes over when it leaves", async () => {
    const spies = [new Spy('a'), new Spy('b'), new Spy('c')]
    const consumers = spies.map((s) => consumer(s.label))
    for (const [i, c] of consumers.entries()) {
      await c.subscribe(['t'], {}, { assignor: spies[i] })
      await c.poll({ timeoutMs: 0 })
    }
    assert.ok(spies[0]!.calls.length >= 3, 'a planned every generation so far')
    assert.equal(spies[1]!.calls.length + spies[2]!.calls.length, 0)
    await consumers[0]!.close()
    await consumers[1]!.poll({ timeoutMs: 0 })
    assert.equal(spies[1]!.calls.length, 1, 'b, the oldest left, plans now')
    assert.equal(spies[2]!.calls.length, 0)
  })

  test("the leader's assignor is told every member's topics, owned partitions, generation, user data and instance id", async () => {
    const leader = new Spy('leader')
    const a = consumer('a')
    await a.subscribe(['t'], {}, { assignor: leader })
    await a.poll({ timeoutMs: 0 })
    const b = consumer('b', 'static-b')
    await b.subscribe(['t'], {}, { assignor: new Spy('b') })
    await b.poll({ timeoutMs: 0 })
    const [first, second] = leader.calls.slice(-1)[0]!
    assert.deepEqual(first!.topics, ['t'])
    assert.deepEqual(first!.owned.map(key), ['t[0]', 't[1]', 't[2]', 't[3]'])
    assert.equal(first!.generation, 1)
    assert.equal(first!.userData?.toString(), 'leader')
    assert.equal(first!.instanceId, undefined)
    assert.deepEqual(second!.owned, [])
    assert.equal(second!.generation, -1, 'owns nothing yet')
    assert.equal(second!.userData?.toString(), 'b')
    assert.equal(second!.instanceId, 'static-b')
  })

  test('onGeneration tells each generation once, with the leader flag, before its onRevoked and onAssigned', async () => {
    const events: string[] = []
    const infos: GenerationInfo[] = []
    const a = consumer('a')
    await a.subscribe(['t'], {
      onGeneration: (info) => {
        infos.push(info)
        events.push(`generation ${info.generation} ${info.assignment.partitions.map(key).join(',')}`)
      },
      onAssigned: (tps) => void events.push(`assigned ${tps.map(key).join(',')}`),
      onRevoked: (tps) => void events.push(`revoked ${tps.map(key).join(',')}`),
    })
    await a.poll({ timeoutMs: 0 })
    const b = consumer('b')
    await b.subscribe(['t'])
    await a.poll({ timeoutMs: 0 })
    await b.poll({ timeoutMs: 0 })
    await a.poll({ timeoutMs: 0 })
    assert.deepEqual(events, [
      'generation 1 t[0],t[1],t[2],t[3]',
      'assigned t[0],t[1],t[2],t[3]',
      'generation 2 t[0],t[1]',
      'revoked t[2],t[3]',
      'generation 3 t[0],t[1]',
    ])
    assert.ok(infos.every((info) => info.leader && info.memberId === infos[0]!.memberId))
    assert.equal(b.assignment().length, 2)
  })

  test('a member joining with another assignor protocol is refused, naming both (INCONSISTENT_GROUP_PROTOCOL)', async () => {
    const a = consumer('a')
    await a.subscribe(['t'])
    const other: GroupAssignor = { name: 'range', assign: () => new Map() }
    const b = consumer('b')
    await assert.rejects(
      b.subscribe(['t'], {}, { assignor: other }),
      code('KAFKA', /"range".*tributary-cooperative-sticky.*INCONSISTENT_GROUP_PROTOCOL/),
    )
    assert.equal((await admin.describeGroup('g')).members.length, 1)
    await a.close()
    // An empty group takes whatever protocol its first member speaks.
    await b.subscribe(['t'], {}, { assignor: other })
    assert.equal((await admin.describeGroup('g')).members.length, 1)
  })

  test("an assignor that throws fails the leader's poll and moves nothing; the next poll retries", async () => {
    const spy = new Spy('a')
    const a = consumer('a')
    await a.subscribe(['t'], {}, { assignor: spy })
    await a.poll({ timeoutMs: 0 })
    spy.fail = new Error('assignor bug')
    const b = consumer('b')
    await b.subscribe(['t'], {}, { assignor: new Spy('b') })
    await b.poll({ timeoutMs: 0 })
    await assert.rejects(a.poll({ timeoutMs: 0 }), /assignor bug/)
    assert.equal(a.assignment().length, 4, 'the previous generation stands')
    assert.deepEqual(b.assignment(), [])
    spy.fail = undefined
    await a.poll({ timeoutMs: 0 })
    await a.poll({ timeoutMs: 0 })
    await b.poll({ timeoutMs: 0 })
    assert.deepEqual([a.assignment().length, b.assignment().length], [2, 2])
  })

  test("an assignor's impossible plan (a partition given twice) is refused at the leader, naming the assignor", async () => {
    const twice: GroupAssignor = {
      name: 'twice',
      assign: (members) =>
        new Map(
          members.map((m) => [m.memberId, { partitions: [{ topic: 't', partition: 0 }], userData: null }]),
        ),
    }
    const a = consumer('a')
    await a.subscribe(['t'], {}, { assignor: twice })
    await a.poll({ timeoutMs: 0 })
    const b = consumer('b')
    await b.subscribe(['t'], {}, { assignor: twice })
    await b.poll({ timeoutMs: 0 })
    await assert.rejects(a.poll({ timeoutMs: 0 }), /assignor twice gave t:0 to both/)
  })

  test('user data that is not a Buffer fails the poll of the member that gave it', async () => {
    const bad = {
      name: 'tributary-cooperative-sticky',
      userData: () => 'text',
      assign: (members: MemberSubscription[], counts: Map<string, number>) =>
        stickyAssignor.assign(members, counts),
    }
    const a = consumer('a')
    await a.subscribe(['t'], {}, { assignor: bad as unknown as GroupAssignor })
    await assert.rejects(a.poll({ timeoutMs: 0 }), /userData\(\) must return a Buffer or null/)
  })

  test('subscribe refuses an assignor without a name or an assign function', async () => {
    const a = consumer('a')
    for (const assignor of [
      { assign: () => new Map() },
      { name: 'x' },
      { name: 'x', assign() {}, userData: 1 },
    ]) {
      await assert.rejects(
        a.subscribe(['t'], {}, { assignor: assignor as unknown as GroupAssignor }),
        code('INVALID_ARGUMENT', /assignor/),
      )
    }
  })
})
