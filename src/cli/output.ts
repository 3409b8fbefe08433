/** Output helpers: aligned tables, backpressure-aware writes, durations and rates. */
import { once } from 'node:events'
import type { Writable } from 'node:stream'

/** Left-aligned columns separated by two spaces, header first; no trailing spaces. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  )
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

/**
 * Writes and waits for 'drain' when the stream's buffer is full, so a slow reader (a pager, a pipe)
 * slows the producer of output instead of growing memory without bound.
 */
export async function write(out: Writable, data: string | Buffer): Promise<void> {
  if (out.write(data)) return
  if (out.destroyed || out.writableEnded) return
  await Promise.race([once(out, 'drain'), once(out, 'close')])
}

export function seconds(ms: number): string {
  return (ms / 1000).toFixed(2)
}

export function rate(count: number, ms: number): string {
  return ms <= 0 ? String(count) : String(Math.round((count * 1000) / ms))
}

/** Anything thrown, as an Error (a thrown string or object keeps its text). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
