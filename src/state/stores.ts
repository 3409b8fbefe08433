/**
 * Store kinds by URL scheme (Faust's `memory://`, `rocksdb://`): a new kind is one file that
 * implements BytesStore and one line here.
 */
import { TributaryError } from '../errors.js'
import { LmdbStore, lmdbDirectory } from './lmdb-store.js'
import { MemoryStore } from './memory-store.js'
import type { BytesStore, StoreLocation, StoreOpener } from './types.js'

const OPENERS: Record<string, StoreOpener> = {
  'memory:': () => new MemoryStore(),
  'lmdb:': (url, location) => new LmdbStore(lmdbDirectory(url, location)),
}

/** Checks a store URL when the table is declared (not when a task first opens it). */
export function parseStoreUrl(url: string, table: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `table "${table}": store "${url}" is not a URL (use memory:// or lmdb://[directory])`,
    )
  }
  if (!(parsed.protocol in OPENERS))
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `table "${table}": store "${url}" has an unknown scheme ${parsed.protocol} (known: ${Object.keys(OPENERS).join(' ')})`,
    )
  return parsed
}

export function openStore(url: string, location: StoreLocation): BytesStore {
  const parsed = parseStoreUrl(url, location.name)
  return OPENERS[parsed.protocol]!(parsed, location)
}
