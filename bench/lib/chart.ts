/**
 * The SVG chart of a report: per case, one bar per subject to its median records/s, a whisker from
 * the lowest to the highest round and a box over the interquartile range, labelled with the median,
 * min..max and the ratio against the report's baseline.
 */
import { ratio, type Report } from './results.js'

const COLORS = ['#2563eb', '#16a34a', '#ea580c', '#9333ea', '#0891b2']
const LEFT = 300
const WIDTH = 380
const BAR = 22

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;')
const int = (n: number): string => Math.round(n).toLocaleString('en-US')

export function chart(report: Report): string {
  const cases = [...new Set(report.measurements.map((m) => m.case))]
  const max = Math.max(...report.measurements.map((m) => m.spread.max))
  const scale = (n: number): number => (n / max) * WIDTH
  const subjects = [...new Set(report.measurements.map((m) => m.subject))]
  const parts: string[] = []
  let y = 78
  for (const c of cases) {
    parts.push(`<text x="10" y="${y}" font-weight="bold">${escape(c)}</text>`)
    y += 8
    for (const m of report.measurements.filter((x) => x.case === c)) {
      const r = ratio(report, m)
      const color = COLORS[subjects.indexOf(m.subject) % COLORS.length]
      const mid = y + (BAR - 4) / 2
      const [lo, q1, q3, hi] = [m.spread.min, m.spread.q1, m.spread.q3, m.spread.max].map(scale)
      parts.push(
        `<text x="10" y="${y + 14}">${escape(m.subject)}</text>`,
        `<rect x="${LEFT}" y="${y}" width="${Math.max(1, scale(m.recordsPerSec)).toFixed(1)}" height="${BAR - 4}" fill="${color}" fill-opacity="0.75"/>`,
        `<line x1="${(LEFT + lo!).toFixed(1)}" x2="${(LEFT + hi!).toFixed(1)}" y1="${mid}" y2="${mid}" stroke="black"/>`,
        `<rect x="${(LEFT + q1!).toFixed(1)}" y="${mid - 4}" width="${Math.max(1, q3! - q1!).toFixed(1)}" height="8" fill="none" stroke="black"/>`,
        `<text x="${(LEFT + Math.max(hi!, scale(m.recordsPerSec)) + 6).toFixed(1)}" y="${y + 14}">` +
          `${int(m.recordsPerSec)}/s [${int(m.spread.min)}..${int(m.spread.max)}]` +
          `${r === undefined ? '' : ` (${r.toFixed(2)}x)`}</text>`,
      )
      y += BAR
    }
    y += 16
  }
  for (const c of report.comparisons) {
    const target =
      c.target === undefined ? '' : `, target >= ${c.target.toFixed(2)}x ${c.met ? 'met' : 'NOT met'}`
    parts.push(
      `<text x="10" y="${y}">${escape(`${c.subject} vs ${c.reference}: ${c.ratio.toFixed(2)}x (rounds ${c.paired.min.toFixed(2)}x..${c.paired.max.toFixed(2)}x; per CPU-s ${c.cpuRatio.toFixed(2)}x)${target}`)}</text>`,
    )
    y += 18
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="${y + 10}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escape(report.name)}: median records/s of ${escape(String(report.environment.rounds ?? '?'))} rounds [min..max], box = IQR (ratio vs ${escape(report.baseline)})</text>`,
    `<text x="10" y="36" fill="#555">${escape(report.date)}, ${escape(String(report.environment.cpus))} cpus, node ${escape(String(report.environment.node))}</text>`,
    `<text x="10" y="52" fill="#555">1-min load average as each round began: ${escape(String(report.environment.loadAverage1mPerRound ?? '?'))}</text>`,
    ...parts,
    '</svg>',
  ].join('\n')
}
