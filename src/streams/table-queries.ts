/**
 * Interactive queries: the /tables routes of every worker's ops server. A key is answered by the
 * worker whose task holds its partition; any other worker forwards the request there, found in the
 * group's host map (each worker advertises its URL in the assignment's user data). While the key's
 * task restores, or its partition moves between workers, the answer is 503 with Retry-After.
 */
import { FORWARDED_HEADER } from '../web/routes.js'
import type { TableAnswer, TableQueries } from '../web/types.js'
import type { StoreSpec, Subtopology } from '../runtime/types.js'
import type { Worker } from '../runtime/worker.js'
import { partitionForKey } from '../transport/partitioner.js'

const FORWARD_TIMEOUT_MS = 3_000
const RETRY_AFTER_SECONDS = 1

const unavailable = (error: string): TableAnswer => ({
  status: 503,
  body: { error },
  retryAfterSeconds: RETRY_AFTER_SECONDS,
})

/** A windowed store's entry as the routes show it: the window and its value; the task's own entry (its stream time) is not shown. */
function windowEntry(
  key: unknown,
  value: unknown,
): { key: unknown; window: unknown; value: unknown } | undefined {
  const { key: recordKey, window } = key as { key: unknown; window: { start: number; end: number } }
  if (window.start < 0) return undefined
  return { key: recordKey, window, value: (value as { value: unknown }).value }
}

/** A key as written in a URL: the text itself for string keys, else JSON (falling back to the text). */
function parseKey(spec: StoreSpec, text: string): unknown {
  if ((spec.recordKey ?? spec.key).name === 'string') return text
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

export function tableQueries(
  worker: Worker,
  specs: ReadonlyMap<string, StoreSpec>,
  self: () => string | null,
): TableQueries {
  const subtopologyOf = (table: string): Subtopology | undefined =>
    worker.subtopologies.find((s) => s.stores.some((store) => store.name === table))
  const ownerOf = (topic: string, partition: number): string | undefined => {
    for (const [url, partitions] of worker.hosts)
      if (partitions.some((tp) => tp.topic === topic && tp.partition === partition)) return url
    return undefined
  }
  const localTask = (subtopology: Subtopology, partition: number) =>
    worker.tasks().find((t) => t.subtopology.id === subtopology.id && t.partition === partition)

  return {
    list(): TableAnswer {
      const tables = [...specs.values()].map((spec) => {
        const subtopology = subtopologyOf(spec.name)
        const topic = subtopology?.sourceTopics[0]
        const count = topic === undefined ? undefined : worker.partitionCount(topic)
        const partitions = Array.from({ length: count ?? 0 }, (_, partition) => {
          const task = subtopology && localTask(subtopology, partition)
          const store = task?.stateManager.store(spec.name)
          return {
            partition,
            owner: ownerOf(topic!, partition) ?? null,
            ...(task ? { state: task.state } : {}),
            ...(store ? { keys: store.size() } : {}),
          }
        })
        return {
          name: spec.name,
          changelog: spec.changelog,
          store: spec.url,
          topic: topic ?? null,
          partitions,
        }
      })
      return { status: 200, body: { worker: worker.workerId, url: self(), tables } }
    },

    entries(table, page): TableAnswer {
      const spec = specs.get(table)
      if (!spec) return { status: 404, body: { error: `no table "${table}"`, tables: [...specs.keys()] } }
      const rows: Array<{
        key: unknown
        window?: unknown
        value: unknown
        partition: number
        cursor: string
      }> = []
      for (const task of worker.tasks()) {
        const store = task.stateManager.store(table)
        if (!store) continue
        for (const [key, value] of store.entries()) {
          if (spec.recordKey) {
            const entry = windowEntry(key, value)
            if (entry) rows.push({ ...entry, partition: task.partition, cursor: JSON.stringify(key) })
          } else rows.push({ key, value, partition: task.partition, cursor: JSON.stringify(key) })
        }
      }
      rows.sort((a, b) => (a.cursor < b.cursor ? -1 : a.cursor > b.cursor ? 1 : 0))
      const after = page.after
      const from = after === undefined ? rows : rows.filter((r) => r.cursor > after)
      const entries = from.slice(0, page.limit)
      const more = from.length > entries.length
      return {
        status: 200,
        body: {
          table,
          worker: worker.workerId,
          entries: entries.map(({ cursor: _, ...entry }) => entry),
          next: more ? entries[entries.length - 1]!.cursor : null,
        },
      }
    },

    async get(table, keyText, forwarded): Promise<TableAnswer> {
      const spec = specs.get(table)
      const subtopology = subtopologyOf(table)
      if (!spec || !subtopology)
        return { status: 404, body: { error: `no table "${table}"`, tables: [...specs.keys()] } }
      const key = parseKey(spec, keyText)
      let bytes: Buffer | null
      const keyCodec = spec.recordKey ?? spec.key
      try {
        bytes = keyCodec.encode(key)
      } catch (error) {
        return {
          status: 400,
          body: {
            error: `the key ${JSON.stringify(keyText)} does not fit the table's key codec ${keyCodec.name}: ${String(error)}`,
          },
        }
      }
      const topic = subtopology.sourceTopics[0]!
      const count = worker.partitionCount(topic)
      if (count === undefined || bytes === null)
        return unavailable(`table "${table}" is not ready on this worker`)
      const partition = partitionForKey(bytes, count)
      const task = localTask(subtopology, partition)
      const where = { table, key, partition, worker: worker.workerId }
      if (task) {
        const store = task.stateManager.store(table)
        if (task.state !== 'running' || !store)
          return unavailable(
            `partition ${partition} of table "${table}" is ${task.state === 'restoring' || task.state === 'created' ? 'restoring' : 'moving'} on this worker`,
          )
        if (spec.recordKey) {
          // A windowed table: the key's windows held now, oldest first.
          const windows = []
          for (const [k, v] of store.entries()) {
            const entry = windowEntry(k, v)
            if (entry && Buffer.compare(keyCodec.encode(entry.key) ?? Buffer.alloc(0), bytes) === 0)
              windows.push({ window: entry.window, value: entry.value })
          }
          windows.sort(
            (a, b) => (a.window as { start: number }).start - (b.window as { start: number }).start,
          )
          return windows.length === 0
            ? {
                status: 404,
                body: { error: `no window of key ${JSON.stringify(key)} in table "${table}"`, ...where },
              }
            : { status: 200, body: { ...where, windows } }
        }
        const value = store.get(key)
        return value === undefined
          ? { status: 404, body: { error: `no key ${JSON.stringify(key)} in table "${table}"`, ...where } }
          : { status: 200, body: { ...where, value } }
      }
      const owner = ownerOf(topic, partition)
      if (forwarded || owner === undefined || owner === self())
        return unavailable(`partition ${partition} of table "${table}" is moving between workers`)
      try {
        const response = await fetch(
          `${owner}/tables/${encodeURIComponent(table)}/${encodeURIComponent(keyText)}`,
          {
            headers: { [FORWARDED_HEADER]: self() ?? worker.workerId },
            signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
          },
        )
        const retry = Number(response.headers.get('retry-after'))
        return {
          status: response.status,
          body: await response.json(),
          ...(Number.isFinite(retry) && retry > 0 ? { retryAfterSeconds: retry } : {}),
        }
      } catch (error) {
        return unavailable(`the owner of partition ${partition}, ${owner}, did not answer: ${String(error)}`)
      }
    },
  }
}
