/** Fetched records waiting for `poll`, per fetch response, in arrival order (so in offset order per partition). */
import type { ConsumedRecord } from '../types.js'

/** A partition's position generation: bumped by a seek or a revocation. */
export interface Epoch {
  epoch: number
}

interface Chunk {
  owner: Epoch
  epoch: number
  records: ConsumedRecord[]
  next: number
}

export class RecordBuffer {
  #chunks: Chunk[] = []
  #size = 0

  /** Records buffered and not yet taken. */
  get size(): number {
    return this.#size
  }

  push(owner: Epoch, records: ConsumedRecord[]): void {
    this.#chunks.push({ owner, epoch: owner.epoch, records, next: 0 })
    this.#size += records.length
  }

  /** Drops the records of partitions whose epoch moved on since they were fetched. */
  purge(): void {
    this.#chunks = this.#chunks.filter((c) => c.owner.epoch === c.epoch)
    this.#size = this.#chunks.reduce((n, c) => n + c.records.length - c.next, 0)
  }

  clear(): void {
    this.#chunks = []
    this.#size = 0
  }

  /** Up to `max` records, oldest first; a whole chunk is handed over without copying. */
  take(max: number): ConsumedRecord[] {
    let out: ConsumedRecord[] | undefined
    while (this.#chunks.length > 0) {
      const chunk = this.#chunks[0]!
      const left = chunk.records.length - chunk.next
      const room = max - (out?.length ?? 0)
      if (room <= 0) break
      if (out === undefined && chunk.next === 0 && left <= room) {
        out = chunk.records
        this.#size -= left
        this.#chunks.shift()
        continue
      }
      out ??= []
      const n = Math.min(left, room)
      for (let i = 0; i < n; i++) out.push(chunk.records[chunk.next + i]!)
      chunk.next += n
      this.#size -= n
      if (chunk.next < chunk.records.length) break
      this.#chunks.shift()
    }
    return out ?? []
  }
}
