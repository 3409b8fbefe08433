/**
 * `tributary tables <module>`: the tables of an app (changelog, store, codecs) and, from a running
 * worker's ops server, each partition's owner, state and size. The worker asked names the others
 * (the group's host map), and each is asked for the sizes of the partitions it holds.
 */
import type { Writable } from 'node:stream'
import { Command } from 'commander'
import type { App } from '../../streams/app.js'
import { loadApp } from '../app-loader.js'
import type { CliContext } from '../context.js'
import { formatTable, write } from '../output.js'

interface PartitionRow {
  partition: number
  owner: string | null
  state?: string
  keys?: number
}

interface Listing {
  worker: string
  url: string | null
  tables: Array<{
    name: string
    changelog: string
    store: string
    topic: string | null
    partitions: PartitionRow[]
  }>
}

export interface TableInfo {
  name: string
  changelog: string
  store: string
  key: string
  value: string
  /** Known when a worker answered. */
  partitions: PartitionRow[] | null
  keys: number | null
}

async function listing(url: string): Promise<Listing | undefined> {
  try {
    const response = await fetch(`${url.replace(/\/+$/, '')}/tables`, { signal: AbortSignal.timeout(3_000) })
    return response.ok ? ((await response.json()) as Listing) : undefined
  } catch {
    return undefined
  }
}

export async function listTables(
  app: App,
  options: { url?: string; json?: boolean },
  out: Writable,
  err: Writable,
): Promise<TableInfo[]> {
  const { processors } = app.compile()
  const specs = new Map(processors.flatMap((p) => p.stores ?? []).map((s) => [s.name, s]))
  const web = app.settings.web
  const url = options.url ?? (web ? `http://${web.host}:${web.port}` : undefined)
  const first = url ? await listing(url) : undefined
  // Every owner is asked for the partitions it holds (their sizes are only known there).
  const byOwner = new Map<string, Listing>()
  if (first?.url) byOwner.set(first.url, first)
  const owners = new Set(
    first?.tables.flatMap((t) => t.partitions.map((p) => p.owner)).filter((o) => o !== null),
  )
  for (const owner of owners)
    if (!byOwner.has(owner)) {
      const answer = await listing(owner)
      if (answer) byOwner.set(owner, answer)
    }
  const infos: TableInfo[] = [...specs.values()].map((spec) => {
    const known = first?.tables.find((t) => t.name === spec.name)
    const partitions = known?.partitions.map((p) => {
      const there = p.owner
        ? byOwner.get(p.owner)?.tables.find((t) => t.name === spec.name)?.partitions[p.partition]
        : undefined
      return {
        ...p,
        ...(there?.state ? { state: there.state } : {}),
        ...(there?.keys !== undefined ? { keys: there.keys } : {}),
      }
    })
    const sized = partitions?.every((p) => p.keys !== undefined)
    return {
      name: spec.name,
      changelog: spec.changelog,
      store: spec.url,
      key: spec.key.name,
      value: spec.value.name,
      partitions: partitions ?? null,
      keys: partitions && sized ? partitions.reduce((n, p) => n + (p.keys ?? 0), 0) : null,
    }
  })
  if (options.json) {
    await write(
      out,
      `${JSON.stringify({ app: app.id, url: url ?? null, reached: first !== undefined, tables: infos }, null, 2)}\n`,
    )
    return infos
  }
  if (infos.length === 0) {
    await write(out, `App "${app.id}" has no tables.\n`)
    return infos
  }
  const sections = [
    formatTable(
      ['TABLE', 'CHANGELOG', 'STORE', 'KEY', 'VALUE', 'KEYS'],
      infos.map((t) => [
        t.name,
        t.changelog,
        t.store,
        t.key,
        t.value,
        t.keys === null ? '?' : String(t.keys),
      ]),
    ),
  ]
  const rows = infos.flatMap((t) =>
    (t.partitions ?? []).map((p) => [
      t.name,
      String(p.partition),
      p.owner ?? '(none)',
      p.state ?? '?',
      p.keys === undefined ? '?' : String(p.keys),
    ]),
  )
  if (rows.length > 0) sections.push(formatTable(['TABLE', 'PARTITION', 'OWNER', 'STATE', 'KEYS'], rows))
  await write(out, sections.join('\n'))
  if (!first)
    await write(
      err,
      url
        ? `no worker of app "${app.id}" answered at ${url}: owners and sizes are unknown (start one, or give --url of its ops server)\n`
        : `app "${app.id}" has no ops server (web: false): owners and sizes are unknown; give --url of a worker's ops server\n`,
    )
  return infos
}

export function tablesCommand(context: CliContext): Command {
  return new Command('tables')
    .description(
      'list the tables of an app, with the owner, state and size of each partition from a running worker',
    )
    .argument('<module>', 'TypeScript or JavaScript module exporting the App (default export or "app")')
    .option('--app <exportName>', 'the export to describe, when the module exports several apps')
    .option('--url <url>', "a worker's ops server (default: the app's web setting, http://127.0.0.1:6066)")
    .option('--json', 'print one JSON document instead of tables')
    .addHelpText(
      'after',
      '\nThe worker asked names the owners of every partition (the group host map); each owner is asked\n' +
        'for the sizes of its partitions. A single key: curl <ops url>/tables/<table>/<key>.\n\nExamples:\n' +
        '  $ tributary tables src/app.ts\n' +
        '  $ tributary tables src/app.ts --url http://10.0.0.7:6066 --json',
    )
    .action(async (module: string, flags: { app?: string; url?: string; json?: boolean }) => {
      const { app } = await loadApp(module, { exportName: flags.app })
      await listTables(app, flags, context.io.stdout, context.io.stderr)
    })
}
