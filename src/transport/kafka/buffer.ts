/**
 * Fetched records waiting for `poll`, per fetch response, in arrival order (so in offset order per
 * partition), with a count per partition for the per-partition budget. A paused partition's
 * records stay where they are and are skipped by `take` until it is resumed.
 */
import type { ConsumedRecord } from '../types.js'

/** A partition as the buffer knows it: its position generation (bumped by a seek or a revocation). */
export interface Owner {
  epoch: number
  /** Records of this partition in the buffer, not yet taken. */
  buffered: number
  paused: boolean
}

interface Chunk {
  owner: Owner
  epoch: number
  records: ConsumedRecord[]
  next: number
}

export class RecordBuffer {
  #chunks: Chunk[] = []
  #size = 0

  /** Records buffered and not yet taken, paused partitions included. */
  get size(): number {
    return this.#size
  }

  push(owner: Owner, records: ConsumedRecord[]): void {
    this.#chunks.push({ owner, epoch: owner.epoch, records, next: 0 })
    this.#size += records.length
    owner.buffered += records.length
  }

  /** Drops the records of partitions whose epoch moved on since they were fetched. */
  purge(): void {
    const kept: Chunk[] = []
    for (const chunk of this.#chunks) {
      if (chunk.owner.epoch === chunk.epoch) kept.push(chunk)
      else chunk.owner.buffered -= chunk.records.length - chunk.next
    }
    this.#chunks = kept
    this.#size = kept.reduce((n, c) => n + c.records.length - c.next, 0)
  }

  clear(): void {
    for (const chunk of this.#chunks) chunk.owner.buffered = 0
    this.#chunks = []
    this.#size = 0
  }

  /** The offset of the first record of `owner` still to be taken, if any is buffered. */
  firstOffset(owner: Owner): number | undefined {
    for (const chunk of this.#chunks) {
      if (chunk.owner === owner && chunk.epoch === owner.epoch) return chunk.records[chunk.next]?.offset
    }
    return undefined
  }

  /**
   * Up to `max` records of partitions that are not paused, oldest first; a whole chunk is handed
   * over without copying.
   */
  take(max: number): ConsumedRecord[] {
    let out: ConsumedRecord[] | undefined
    let i = 0
    while (i < this.#chunks.length) {
      const chunk = this.#chunks[i]!
      if (chunk.owner.paused) {
        i++
        continue
      }
      const left = chunk.records.length - chunk.next
      const room = max - (out?.length ?? 0)
      if (room <= 0) break
      if (out === undefined && chunk.next === 0 && left <= room) {
        out = chunk.records
        this.#taken(chunk, left)
        this.#chunks.splice(i, 1)
        continue
      }
      out ??= []
      const n = Math.min(left, room)
      for (let k = 0; k < n; k++) out.push(chunk.records[chunk.next + k]!)
      chunk.next += n
      this.#taken(chunk, n)
      if (chunk.next < chunk.records.length) break
      this.#chunks.splice(i, 1)
    }
    return out ?? []
  }

  #taken(chunk: Chunk, n: number): void {
    this.#size -= n
    chunk.owner.buffered -= n
  }
}
