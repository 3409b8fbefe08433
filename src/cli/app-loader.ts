/**
 * Loads the App of a user module for `worker`, `agents` and `send --app`: TypeScript through tsx's
 * ESM API (no build step, no loader flag), JavaScript through a plain import.
 *
 * Apps are recognised by shape, not with `instanceof`: tsx's tsImport loads the module (and what it
 * imports, including its copy of tributary) in a namespace of its own, so its App is not the class
 * this CLI imported, though it is the same code.
 */
import { stat } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { TributaryError } from '../errors.js'
import type { App } from '../streams/app.js'

export interface LoadedApp {
  app: App
  /** The export it came from: `default`, `app`, or the name given with --app. */
  exportName: string
  /** The module's absolute path. */
  file: string
}

export interface LoadOptions {
  /** The export to take when the module exports several apps (--app). */
  exportName?: string
  /** Where a relative module path starts. @default process.cwd() */
  cwd?: string
}

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx'])
const JAVASCRIPT = new Set(['.js', '.mjs', '.cjs'])

function invalid(message: string, cause?: unknown): TributaryError {
  return new TributaryError('INVALID_ARGUMENT', message, cause === undefined ? {} : { cause })
}

/** An App, recognised by the members the CLI uses. */
export function isApp(value: unknown): value is App {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Record<string, unknown>
  return (
    typeof candidate.id === 'string' &&
    candidate.agents instanceof Map &&
    candidate.topics instanceof Map &&
    typeof candidate.compile === 'function' &&
    typeof candidate.start === 'function' &&
    typeof candidate.stop === 'function' &&
    typeof candidate.override === 'function'
  )
}

export async function loadApp(module: string, options: LoadOptions = {}): Promise<LoadedApp> {
  const file = resolve(options.cwd ?? process.cwd(), module)
  const info = await stat(file).catch(() => undefined)
  if (info === undefined) throw invalid(`App module "${module}" does not exist (looked for ${file})`)
  if (!info.isFile()) throw invalid(`App module "${module}" is not a file`)
  const extension = extname(file).toLowerCase()
  if (!TYPESCRIPT.has(extension) && !JAVASCRIPT.has(extension)) {
    throw invalid(
      `App module "${module}" is neither TypeScript nor JavaScript (.ts, .mts, .cts, .tsx, .js, .mjs, .cjs)`,
    )
  }
  let namespace: Record<string, unknown>
  try {
    namespace = await importModule(file, TYPESCRIPT.has(extension))
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw invalid(`App module "${module}" could not be loaded: ${reason}`, error)
  }
  return { ...pickApp(namespace, module, options.exportName), file }
}

async function importModule(file: string, typescript: boolean): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href
  if (!typescript) return (await import(url)) as Record<string, unknown>
  // Loaded on demand: only the commands that load an app pay for tsx (and esbuild).
  const { tsImport } = await import('tsx/esm/api')
  return (await tsImport(url, { parentURL: import.meta.url })) as Record<string, unknown>
}

/** The App among the module's exports; the same App exported twice (default and `app`) counts once. */
function pickApp(
  namespace: Record<string, unknown>,
  module: string,
  exportName: string | undefined,
): Omit<LoadedApp, 'file'> {
  const names = new Map<App, string[]>()
  for (const [name, value] of Object.entries(namespace)) {
    if (isApp(value)) names.set(value, [...(names.get(value) ?? []), name])
  }
  const listed = [...names.values()].map((n) => n.join('/')).join(', ')
  if (exportName !== undefined) {
    const chosen = namespace[exportName]
    if (isApp(chosen)) return { app: chosen, exportName }
    const found = exportName in namespace ? 'is not an App' : 'does not exist'
    throw invalid(
      `Export "${exportName}" of "${module}" ${found}` +
        (names.size > 0 ? ` (the apps it exports: ${listed})` : ' (it exports no App)'),
    )
  }
  const apps = [...names.entries()]
  if (apps.length === 1) {
    const [app, exported] = apps[0]!
    return { app, exportName: exported.includes('default') ? 'default' : exported[0]! }
  }
  if (apps.length === 0) {
    const exports = Object.keys(namespace)
    throw invalid(
      `App module "${module}" exports no App: export one as the default export or as "app"` +
        (exports.length > 0 ? ` (its exports: ${exports.join(', ')})` : ''),
    )
  }
  throw invalid(
    `App module "${module}" exports ${apps.length} apps (${listed}): choose one with --app <exportName>`,
  )
}
