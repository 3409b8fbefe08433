/**
 * Bench results: a JSON file, a table and an SVG chart. Every figure is the median of the measured
 * rounds with its spread; ratios are medians over medians, against a subject of the same run.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { chart } from './chart.js'
import { ratio, type Report } from './results.js'

export type { Comparison, Measurement, Report } from './results.js'

export const resultsDir = join(import.meta.dirname, '..', 'results')

const int = (n: number): string => Math.round(n).toLocaleString('en-US')
const x = (n: number): string => `${n.toFixed(2)}x`

function columns(head: string[], rows: string[][], left: number): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i >= left ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)]
}

export function table(report: Report): string {
  const rows = report.measurements.map((m) => {
    const r = ratio(report, m)
    const iqr = ((m.spread.q3 - m.spread.q1) / m.recordsPerSec) * 100
    return [
      m.case,
      m.subject,
      int(m.recordsPerSec),
      `${int(m.spread.min)}..${int(m.spread.max)}`,
      `${iqr.toFixed(1)}%`,
      r === undefined ? '-' : x(r),
      int(m.recordsPerCpuSecond),
    ]
  })
  const head = ['case', 'subject', 'median rec/s', 'min..max', 'IQR', `vs ${report.baseline}`, 'rec/CPU-s']
  const lines = columns(head, rows, 2)
  if (report.comparisons.length > 0) {
    const compared = report.comparisons.map((c) => [
      c.case,
      `${c.subject} vs ${c.reference}`,
      x(c.ratio),
      `${x(c.paired.min)}..${x(c.paired.max)}`,
      x(c.cpuRatio),
      c.target === undefined ? '' : `>= ${x(c.target)}: ${c.met ? 'met' : 'NOT met'}`,
    ])
    lines.push(
      '',
      ...columns(['case', 'comparison', 'ratio', 'per round', 'per CPU-s', 'target'], compared, 2),
    )
  }
  return lines.join('\n')
}

export function writeReport(report: Report): string[] {
  mkdirSync(resultsDir, { recursive: true })
  const json = join(resultsDir, `${report.name}.json`)
  const svg = join(resultsDir, `${report.name}.svg`)
  writeFileSync(json, JSON.stringify(report, null, 2) + '\n')
  writeFileSync(svg, chart(report))
  return [json, svg]
}

/**
 * What a result depends on besides the code: the runtime and the machine, and how busy the machine
 * was (the 1-minute load average when the report is made: other work on a 2-core machine is noise).
 */
export function benchEnvironment(extra: Record<string, string | number>): Record<string, string | number> {
  return {
    node: process.version,
    // The Node subjects run in this process: its V8 flags (the young generation size) are theirs.
    nodeFlags: [...process.execArgv.filter((a) => a.startsWith('--max-')), process.env.NODE_OPTIONS ?? '']
      .join(' ')
      .trim(),
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    ...extra,
  }
}
