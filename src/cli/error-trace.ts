/**
 * Where an error came from in the user's code: under the one-line `error:` message, the first stack
 * frame of every error in the cause chain that lies outside Tributary and outside node_modules, and
 * each cause's own message. Full stacks stay behind TRIBUTARY_DEBUG=1.
 */
import { dirname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * This package's own code, not the user's: src/ when run from a checkout, dist/ when built, and
 * src/ again in frames that source maps lead back to it (an install from a path is a symlink, so its
 * files are not under node_modules).
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const OWN = [join(ROOT, 'src') + sep, join(ROOT, 'dist') + sep]

/** The first frame of `stack` in the user's code, as `file:line:column`. */
export function userFrame(stack: string | undefined): string | undefined {
  for (const line of (stack ?? '').split('\n')) {
    const match = /^\s+at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/.exec(line)
    if (!match) continue
    let file = match[1]!
    if (file.startsWith('file://')) file = fileURLToPath(file)
    if (
      file.startsWith('node:') ||
      file.includes('/node_modules/') ||
      OWN.some((own) => file.startsWith(own))
    )
      continue
    if (!file.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(file)) continue
    return `${file}:${match[2]}:${match[3]}`
  }
  return undefined
}

/** The lines to print under an error's message: its user frame, then each cause with its own. */
export function errorTrace(error: unknown): string[] {
  const lines: string[] = []
  const seen = new Set<unknown>()
  let current: unknown = error
  let depth = 0
  while (current instanceof Error && !seen.has(current) && depth < 10) {
    seen.add(current)
    const indent = '  '.repeat(depth + 1)
    if (depth > 0) lines.push(`${'  '.repeat(depth)}caused by: ${current.name}: ${current.message}`)
    const frame = userFrame(current.stack)
    if (frame !== undefined) lines.push(`${indent}at ${frame}`)
    current = current.cause
    depth++
  }
  return lines
}
