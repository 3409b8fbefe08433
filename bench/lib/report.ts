/** Bench results: a JSON file, a table of ratios against a baseline of the same run, and an SVG chart. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'

export interface Measurement {
  /** What ran, e.g. "produce" or "consume". */
  case: string
  /** Who ran it, e.g. "tributary kafka://", "@platformatic/kafka", "Kafka ProducerPerformance". */
  subject: string
  recordsPerSec: number
  seconds: number
  records: number
}

export interface Report {
  name: string
  date: string
  environment: Record<string, string | number>
  /** The subject each case's ratios are taken against. */
  baseline: string
  measurements: Measurement[]
}

export const resultsDir = join(import.meta.dirname, '..', 'results')

export function ratio(report: Report, m: Measurement): number | undefined {
  const base = report.measurements.find((b) => b.case === m.case && b.subject === report.baseline)
  return base ? m.recordsPerSec / base.recordsPerSec : undefined
}

export function table(report: Report): string {
  const rows = report.measurements.map((m) => {
    const r = ratio(report, m)
    return [
      m.case,
      m.subject,
      Math.round(m.recordsPerSec).toLocaleString('en-US'),
      r === undefined ? '-' : `${r.toFixed(2)}x`,
    ]
  })
  const head = ['case', 'subject', 'records/s', `vs ${report.baseline}`]
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** A horizontal bar chart of records/s per case, one bar per subject. */
export function chart(report: Report): string {
  const bar = 18
  const cases = [...new Set(report.measurements.map((m) => m.case))]
  const max = Math.max(...report.measurements.map((m) => m.recordsPerSec))
  const colors = ['#2563eb', '#16a34a', '#ea580c', '#9333ea', '#0891b2']
  const subjects = [...new Set(report.measurements.map((m) => m.subject))]
  const parts: string[] = []
  let y = 40
  for (const c of cases) {
    parts.push(`<text x="10" y="${y}" font-weight="bold">${c}</text>`)
    y += 8
    for (const m of report.measurements.filter((x) => x.case === c)) {
      const width = Math.max(1, (m.recordsPerSec / max) * 420)
      const r = ratio(report, m)
      const color = colors[subjects.indexOf(m.subject) % colors.length]
      parts.push(`<text x="10" y="${y + 13}">${escape(m.subject)}</text>`)
      parts.push(`<rect x="250" y="${y}" width="${width.toFixed(1)}" height="${bar - 4}" fill="${color}"/>`)
      parts.push(
        `<text x="${(255 + width).toFixed(1)}" y="${y + 13}">${Math.round(m.recordsPerSec).toLocaleString('en-US')}/s` +
          `${r === undefined ? '' : ` (${r.toFixed(2)}x)`}</text>`,
      )
      y += bar
    }
    y += 16
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="860" height="${y}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escape(report.name)}: records/s (ratio vs ${escape(report.baseline)}), ${report.date}</text>`,
    ...parts,
    '</svg>',
  ].join('\n')
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;')
}

export function writeReport(report: Report): string[] {
  mkdirSync(resultsDir, { recursive: true })
  const json = join(resultsDir, `${report.name}.json`)
  const svg = join(resultsDir, `${report.name}.svg`)
  writeFileSync(json, JSON.stringify(report, null, 2) + '\n')
  writeFileSync(svg, chart(report))
  return [json, svg]
}

/** What a result depends on besides the code: the runtime and the machine. */
export function benchEnvironment(extra: Record<string, string | number>): Record<string, string | number> {
  return { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', ...extra }
}
