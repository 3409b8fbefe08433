/**
 * The `lmdb://` store: one LMDB environment per table and task, with the entries in one database
 * and the checkpoint in another. A batch is one transaction, so a crash leaves the store at a batch
 * boundary; writes are not fsynced (the changelog is the durable copy, as Kafka Streams runs
 * RocksDB without its WAL), and since LMDB keeps the order of transactions, a checkpoint written
 * after a batch can be lost with it, never survive it: the store is never behind its checkpoint.
 */
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { open, type Database, type RootDatabase } from 'lmdb'
import { TributaryError } from '../errors.js'
import type { BytesStore, StoreLocation, StoreWrite } from './types.js'

const CHECKPOINT = 'checkpoint'

/** `lmdb://` alone: the worker's state directory; `lmdb:///abs/dir` or `lmdb://./rel`: that directory, per worker id. */
export function lmdbDirectory(url: URL, location: StoreLocation): string {
  const given = decodeURIComponent(url.href.slice('lmdb://'.length))
  if (given === '') {
    if (location.stateDir === undefined)
      throw new TributaryError(
        'INVALID_ARGUMENT',
        `table "${location.name}": store lmdb:// keeps its files in the worker's stateDir, and this worker has none`,
      )
    return join(location.stateDir, 'stores', location.taskId, location.name)
  }
  return join(resolve(given), location.workerId, location.taskId, location.name)
}

export class LmdbStore implements BytesStore {
  readonly persistent = true
  readonly path: string
  readonly #env: RootDatabase
  readonly #data: Database<Buffer, Buffer>
  readonly #meta: Database<number, string>

  constructor(path: string) {
    this.path = path
    mkdirSync(path, { recursive: true })
    this.#env = open({ path, noSync: true, maxDbs: 4 })
    this.#data = this.#env.openDB<Buffer, Buffer>({ name: 'data', keyEncoding: 'binary', encoding: 'binary' })
    this.#meta = this.#env.openDB<number, string>({ name: 'meta', encoding: 'json' })
  }

  get(key: Buffer): Buffer | undefined {
    return this.#data.get(key)
  }

  write(batch: readonly StoreWrite[]): void {
    if (batch.length === 0) return
    const data = this.#data
    this.#env.transactionSync(() => {
      for (const { key, value } of batch) {
        if (value === null) void data.remove(key)
        else void data.put(key, value)
      }
    })
  }

  *entries(): IterableIterator<[Buffer, Buffer]> {
    for (const { key, value } of this.#data.getRange()) yield [key, value]
  }

  count(): number {
    return this.#data.getCount()
  }

  readCheckpoint(): number | undefined {
    const offset = this.#meta.get(CHECKPOINT)
    return typeof offset === 'number' ? offset : undefined
  }

  writeCheckpoint(offset: number | undefined): void {
    if (offset === undefined) this.#meta.removeSync(CHECKPOINT)
    else this.#meta.putSync(CHECKPOINT, offset)
  }

  wipe(): void {
    this.#data.clearSync()
    this.#meta.removeSync(CHECKPOINT)
  }

  async close(): Promise<void> {
    await this.#env.close()
  }
}
