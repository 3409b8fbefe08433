// A strict parser of the Prometheus text exposition format 0.0.4, to check what /metrics serves.
// It throws on anything the format does not allow, naming the line: a sample without HELP and TYPE before
// it, a family split in two, a bad name, an unknown escape, a non-numeric value, a repeated series.

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  help: string
  type: string
  samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/
// Values are read the way Prometheus reads them, with Go's strconv.ParseFloat: decimal floats, and NaN,
// Inf and Infinity in any letter case (prom-client writes "Nan"), the infinities with an optional sign.
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const INFINITY = /^([+-]?)(inf|infinity)$/i
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const SUFFIXES: Record<string, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the exposition must end with a newline')
  const help = new Map<string, string>()
  const families = new Map<string, Family>()
  const finished = new Set<string>()
  const series = new Set<string>()
  let current: Family | undefined
  const lines = text.split('\n').slice(0, -1)
  lines.forEach((line, index) => {
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1}: ${why}: ${JSON.stringify(line)}`)
    }
    if (line === '') return
    const meta = /^# (HELP|TYPE) ([^ ]+) (.*)$/.exec(line)
    if (meta !== null) {
      const [, keyword, name, rest] = meta as unknown as [string, string, string, string]
      if (NAME.exec(name)?.[0] !== name) fail('bad metric name')
      if (finished.has(name) || families.get(name)?.samples.length) fail('metadata after the samples')
      if (keyword === 'HELP') {
        if (help.has(name)) fail('second HELP')
        help.set(name, unescape(rest, false, fail))
        return
      }
      if (families.has(name)) fail('second TYPE')
      if (!TYPES.has(rest)) fail('unknown type')
      if (!help.has(name)) fail('TYPE without HELP before it')
      if (current) finished.add(current.name)
      current = { name, help: help.get(name)!, type: rest, samples: [] }
      families.set(name, current)
      return
    }
    if (line.startsWith('#')) return // a plain comment
    const sample = parseSample(line, fail)
    const family = [...families.values()].find((f) =>
      (SUFFIXES[f.type] ?? ['']).some((suffix) => f.name + suffix === sample.name),
    )
    if (family === undefined) return fail('sample without HELP and TYPE before it')
    if (family !== current) fail('sample apart from the rest of its family')
    if (family.type === 'histogram' && sample.name.endsWith('_bucket') && !('le' in sample.labels)) {
      fail('bucket without le')
    }
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`
    if (series.has(key)) fail('repeated series')
    series.add(key)
    family.samples.push(sample)
  })
  return families
}

function parseSample(line: string, fail: (why: string) => never): Sample {
  const name = NAME.exec(line)?.[0] ?? fail('bad metric name')
  let rest = line.slice(name.length)
  const labels: Record<string, string> = {}
  if (rest.startsWith('{')) {
    rest = rest.slice(1)
    while (!rest.startsWith('}')) {
      const label = LABEL_NAME.exec(rest)?.[0] ?? fail('bad label name')
      if (label in labels || label.startsWith('__')) fail(`repeated or reserved label ${label}`)
      rest = rest.slice(label.length)
      if (!rest.startsWith('="')) fail('label without ="')
      const end = closingQuote(rest, 2) ?? fail('unterminated label value')
      labels[label] = unescape(rest.slice(2, end), true, fail)
      rest = rest.slice(end + 1)
      if (rest.startsWith(',')) {
        rest = rest.slice(1)
        if (rest.startsWith('}')) fail('trailing comma')
      } else if (!rest.startsWith('}')) fail('labels not separated by a comma')
    }
    rest = rest.slice(1)
  }
  const parts = rest.split(' ')
  if (parts[0] !== '' || parts.length < 2 || parts.length > 3 || parts.slice(1).includes(''))
    fail('expected " value [timestamp]"')
  if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) fail('bad timestamp')
  return { name, labels, value: parseValue(parts[1]!) ?? fail('non-numeric value') }
}

function parseValue(text: string): number | undefined {
  if (NUMBER.test(text)) return Number(text)
  if (text.toLowerCase() === 'nan') return Number.NaN
  const infinity = INFINITY.exec(text)
  return infinity === null ? undefined : infinity[1] === '-' ? -Infinity : Infinity
}

/** The index of the quote that closes a value starting at `from`, skipping escaped characters. */
function closingQuote(text: string, from: number): number | undefined {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i
  }
  return undefined
}

/** HELP escapes \\ and \n; label values also \". Any other escape, or a raw newline, is invalid. */
function unescape(text: string, quotes: boolean, fail: (why: string) => never): string {
  return text.replace(/\\(.?)/gs, (_, next: string) => {
    if (next === '\\') return '\\'
    if (next === 'n') return '\n'
    if (next === '"' && quotes) return '"'
    return fail(`bad escape \\${next}`)
  })
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
export function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const samples = [...families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (samples.length > 1)
    throw new Error(`${samples.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return samples[0]?.value
}
