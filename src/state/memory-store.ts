/**
 * The `memory://` store: a map in the process. It keeps no checkpoint, so a task that opens it
 * restores its table from the beginning of the changelog (Kafka Streams' in-memory store).
 */
import type { BytesStore, StoreWrite } from './types.js'

export class MemoryStore implements BytesStore {
  readonly persistent = false
  /** latin1 of the key -> [key, value]: a string is what a Map looks up fastest. */
  readonly #map = new Map<string, [Buffer, Buffer]>()

  get(key: Buffer): Buffer | undefined {
    return this.#map.get(key.toString('latin1'))?.[1]
  }

  write(batch: readonly StoreWrite[]): void {
    for (const { key, value } of batch) {
      const k = key.toString('latin1')
      if (value === null) this.#map.delete(k)
      else this.#map.set(k, [key, value])
    }
  }

  *entries(): IterableIterator<[Buffer, Buffer]> {
    for (const entry of this.#map.values()) yield entry
  }

  count(): number {
    return this.#map.size
  }

  readCheckpoint(): number | undefined {
    return undefined
  }

  writeCheckpoint(): void {}

  wipe(): void {
    this.#map.clear()
  }

  close(): Promise<void> {
    this.#map.clear()
    return Promise.resolve()
  }
}
