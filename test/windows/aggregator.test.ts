import assert from 'node:assert/strict'
import { test } from 'node:test'
import { string } from '../../src/index.js'
import type { Codec } from '../../src/serde/types.js'
import type { KeyValue } from '../../src/state/types.js'
import { WindowAggregator, type ClosedWindow } from '../../src/windows/aggregator.js'
import { hopping, session, sliding, tumbling } from '../../src/windows/kinds.js'
import { windowedCodec, type Slot, type Windowed } from '../../src/windows/keys.js'

/** A store of windowed keys by their encoding, in key-byte order like LMDB. */
class TestStore<V> implements KeyValue<Windowed<string>, V> {
  readonly map = new Map<string, V>()
  readonly codec = windowedCodec(string as Codec<string>)
  #id = (key: Windowed<string>): string => this.codec.encode(key)!.toString('latin1')
  get = (key: Windowed<string>): V | undefined => this.map.get(this.#id(key))
  set = (key: Windowed<string>, value: V): void => void this.map.set(this.#id(key), value)
  delete = (key: Windowed<string>): void => void this.map.delete(this.#id(key))
  has = (key: Windowed<string>): boolean => this.map.has(this.#id(key))
  size(): number {
    return this.map.size
  }
  *entries(): IterableIterator<[Windowed<string>, V]> {
    for (const id of [...this.map.keys()].sort())
      yield [this.codec.decode(Buffer.from(id, 'latin1')), this.map.get(id)!]
  }
}

const count = { initial: () => 0, merge: (a: number, b: number) => a + b }
const text = (closed: Array<ClosedWindow<string, number>>): string[] =>
  closed.map((c) => `${c.key}[${c.window.start},${c.window.end})=${c.value}`)

/** Adds each record and returns what closed after it, the way a task drives the engine. */
function feed(agg: WindowAggregator<string, number>, records: Array<[string, number]>): string[] {
  const out: string[] = []
  for (const [key, time] of records) {
    const added = agg.add(key, time, (n) => n + 1)
    if (added.late) out.push(`late ${key}@${time}`)
    out.push(...text(agg.advance(time)))
  }
  return out
}

test('tumbling windows: each closes once, when stream time reaches its end, with its full count', () => {
  const agg = new WindowAggregator(tumbling(1_000), new TestStore<Slot<number>>(), count)
  assert.deepEqual(
    feed(agg, [
      ['a', 0],
      ['a', 999],
      ['b', 500],
      ['a', 1_000], // closes [0,1000)
      ['a', 1_500],
      ['a', 2_999],
      ['b', 3_000], // closes [1000,2000) and [2000,3000)
    ]),
    ['a[0,1000)=2', 'b[0,1000)=1', 'a[1000,2000)=2', 'a[2000,3000)=1'],
  )
  assert.equal(agg.pending, 1)
  assert.deepEqual(text(agg.closeAll()), ['b[3000,4000)=1'])
  assert.equal(agg.streamTime, 4_000, 'closed by an idle timeout: stream time moved past the window')
  assert.deepEqual(feed(agg, [['b', 3_500]]), ['late b@3500'])
})

test('grace keeps a window open for late records, and a record past it is late and changes nothing', () => {
  const store = new TestStore<Slot<number>>()
  const agg = new WindowAggregator(tumbling(1_000, { grace: 500 }), store, count)
  assert.deepEqual(
    feed(agg, [
      ['a', 100],
      ['a', 1_200], // [0,1000) open until 1500
      ['a', 900], // in grace: counted
      ['a', 1_500], // closes [0,1000)
      ['a', 950], // late
    ]),
    ['a[0,1000)=2', 'late a@950'],
  )
  assert.equal(store.size(), 1, 'the closed window left the store; only [1000,2000) is held')
  assert.equal(agg.get('a', { start: 1_000, end: 2_000 }), 2)
})

test('hopping windows: a record counts in every window that overlaps it, and windows close in order', () => {
  const agg = new WindowAggregator(hopping(1_000, 500), new TestStore<Slot<number>>(), count)
  const added = agg.add('a', 700, (n) => n + 1)
  assert.equal(added.late, false)
  assert.deepEqual(added.late ? [] : added.updated.map((u) => `${u.window.start}-${u.window.end}`), [
    '0-1000',
    '500-1500',
  ])
  assert.deepEqual(feed(agg, [['a', 1_200]]), ['a[0,1000)=1'])
  assert.deepEqual(feed(agg, [['a', 2_000]]), ['a[500,1500)=2', 'a[1000,2000)=1'])
})

test('sessions grow within the gap, merge when a record bridges two, and close a gap after their end', () => {
  // Grace keeps [0,800] open while the record that bridges it to [2500,2500] comes.
  const agg = new WindowAggregator(session(1_000, { grace: 2_000 }), new TestStore<Slot<number>>(), count)
  assert.deepEqual(
    feed(agg, [
      ['a', 0],
      ['a', 800], // [0,800]
      ['a', 2_500], // a second session [2500,2500]
      ['a', 1_700], // bridges both: [0,2500] with 4 records
    ]),
    [],
  )
  assert.deepEqual(
    agg.range('a', 0, 10_000).map((c) => `${c.window.start}-${c.window.end}=${c.value}`),
    ['0-2500=4'],
  )
  // It closes past end + gap + grace: 5500.
  assert.deepEqual(feed(agg, [['b', 5_500]]), [])
  assert.deepEqual(feed(agg, [['b', 5_501]]), ['a[0,2500)=4'])
  assert.deepEqual(feed(agg, [['a', 1_000]]), ['late a@1000'])
})

test('after a restart on the same store and stream time, pending windows close once with their full value, and closed ones stay closed', () => {
  const store = new TestStore<Slot<number>>()
  const first = new WindowAggregator(tumbling(1_000), store, count)
  assert.deepEqual(
    feed(first, [
      ['a', 100],
      ['a', 1_100],
      ['b', 1_200],
      ['c', 1_900],
    ]),
    ['a[0,1000)=1'],
  )
  // The task restarts: its store is restored, its stream time read back.
  const again = new WindowAggregator(tumbling(1_000), store, count, first.streamTime)
  assert.equal(again.pending, 3)
  assert.deepEqual(
    feed(again, [['a', 500]]),
    ['late a@500'],
    'the window closed before the restart is not reopened',
  )
  assert.deepEqual(feed(again, [['a', 1_900]]), [])
  assert.deepEqual(feed(again, [['c', 3_000]]), ['a[1000,2000)=2', 'b[1000,2000)=1', 'c[1000,2000)=1'])
})

test('a retention longer than the window keeps closed windows readable until it ends, never reopened', () => {
  const store = new TestStore<Slot<number>>()
  const agg = new WindowAggregator(tumbling(1_000, { retention: 3_000 }), store, count)
  assert.deepEqual(
    feed(agg, [
      ['a', 100],
      ['a', 1_000],
    ]),
    ['a[0,1000)=1'],
  )
  assert.equal(agg.get('a', { start: 0, end: 1_000 }), 1, 'closed, still readable')
  assert.deepEqual(feed(agg, [['a', 200]]), ['late a@200'])
  assert.deepEqual(
    agg.range('a', 0, 2_000).map((c) => `${c.window.start}=${c.value}`),
    ['0=1', '1000=1'],
  )
  feed(agg, [['a', 3_000]])
  assert.equal(agg.get('a', { start: 0, end: 1_000 }), undefined, 'gone at start + retention')
  assert.equal(agg.get('a', { start: 1_000, end: 2_000 }), 1)
})

/** Every window a sliding aggregation closes, `[start,end]=value`, after all records and an idle close. */
function slidingRun(size: number, grace: number, times: number[]): string[] {
  const agg = new WindowAggregator(sliding(size, { grace }), new TestStore<Slot<number>>(), count)
  const closed: Array<ClosedWindow<string, number>> = []
  for (const time of times) {
    agg.add('a', time, (n) => n + 1)
    closed.push(...agg.advance(time))
  }
  closed.push(...agg.closeAll())
  const seen = closed.map((c) => `[${c.window.start},${c.window.end}]`)
  assert.equal(new Set(seen).size, seen.length, `a window closed twice: ${seen.join(' ')}`)
  return closed
    .map((c) => `[${c.window.start},${c.window.end}]=${c.value}`)
    .sort((a, b) => parseInt(a.slice(1)) - parseInt(b.slice(1)))
}

// The expected windows are Kafka Streams 4.1.2's: SlidingWindows.ofTimeDifferenceAndGrace(10 ms,
// grace).count() run in its TopologyTestDriver on the same records (the last value of each window).
test('sliding windows make the windows Kafka Streams makes, with its counts, records in order', () => {
  assert.deepEqual(slidingRun(10, 20, [10, 15, 21, 25, 40]), [
    '[0,10]=1',
    '[5,15]=2',
    '[11,21]=2',
    '[15,25]=3',
    '[16,26]=2',
    '[22,32]=1',
    '[30,40]=1',
  ])
})

test('sliding windows: records before the size share [0, size], and out-of-order records fill the windows they belong to', () => {
  assert.deepEqual(slidingRun(10, 20, [5, 3, 12, 8, 30, 22, 25]), [
    '[0,10]=3',
    '[2,12]=4',
    '[4,14]=3',
    '[6,16]=2',
    '[9,19]=1',
    '[12,22]=2',
    '[13,23]=1',
    '[15,25]=2',
    '[20,30]=3',
    '[23,33]=2',
    '[26,36]=1',
  ])
})

test('sliding windows: a record whose windows all closed is late; one whose left window closed still fills the open ones', () => {
  // Grace 0: at stream time 30, [0,10] has closed and a record at 15 is late (15 + 10 + 1 <= 30);
  // the record at 25 is not, but its left window [15,25] closed: it counts in [20,30] and [26,36].
  // Kafka Streams' suppression emits [20,30] at stream time 30 and again after the record at 25
  // (its close time is one ms early); here it closes once, at 31, with both records.
  const agg = new WindowAggregator(sliding(10), new TestStore<Slot<number>>(), count)
  assert.deepEqual(feedInclusive(agg, [10, 30, 15, 25, 31]), ['[0,10]=1', 'late a@15', '[20,30]=2'])
  assert.deepEqual(
    agg.closeAll().map((c) => `[${c.window.start},${c.window.end}]=${c.value}`),
    ['[21,31]=3', '[26,36]=2', '[31,41]=1'],
  )
})

function feedInclusive(agg: WindowAggregator<string, number>, times: number[]): string[] {
  const out: string[] = []
  for (const time of times) {
    const added = agg.add('a', time, (n) => n + 1)
    if (added.late) out.push(`late a@${time}`)
    for (const c of agg.advance(time)) out.push(`[${c.window.start},${c.window.end}]=${c.value}`)
  }
  return out
}

/** The sliding windows of a set of record times by definition: each record's left window (early ones: [0, d]), and its right window when records follow within d. */
function slidingByDefinition(size: number, times: number[]): string[] {
  const starts = new Set<number>()
  for (const t of times) {
    starts.add(t < size ? 0 : t - size)
    if (times.some((u) => u > t && u <= t + 1 + size)) starts.add(t + 1)
  }
  return [...starts]
    .sort((a, b) => a - b)
    .map(
      (start) => `[${start},${start + size}]=${times.filter((t) => t >= start && t <= start + size).length}`,
    )
}

test('sliding windows: random records out of order within grace give every distinct window by definition, each once', () => {
  let seed = 7
  const random = (n: number): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n
  for (let run = 0; run < 200; run++) {
    const size = 1 + random(20)
    const times: number[] = []
    let max = 0
    for (let i = 0; i < 1 + random(25); i++) {
      max += random(15)
      times.push(Math.max(0, max - random(10)))
    }
    assert.deepEqual(
      slidingRun(size, 10, times),
      slidingByDefinition(size, times),
      `size ${size}, ${times.join(' ')}`,
    )
  }
})

test('sliding windows: closed windows stay until no record that is not late can need them, then leave the store', () => {
  const store = new TestStore<Slot<number>>()
  const agg = new WindowAggregator(sliding(10), store, count)
  for (const time of [0, 5, 20]) agg.add('a', time, (n) => n + 1)
  agg.advance(20)
  assert.ok(store.size() > 0)
  agg.add('a', 1_000, (n) => n + 1)
  agg.advance(1_000)
  assert.deepEqual(
    [...store.entries()].map(([w]) => `${w.window.start}`),
    ['990'],
    'only the window of the last record is held',
  )
  assert.deepEqual(
    agg.range('a', 0, 2_000).map((c) => `${c.window.start}=${c.value}`),
    ['990=1'],
  )
})

test('sessions without merge are refused with what to do', () => {
  assert.throws(
    () => new WindowAggregator(session(10), new TestStore<Slot<number>>(), { initial: () => 0 }),
    /session windows need merge\(a, b\)/,
  )
})
