/**
 * The shared round runner. One discarded warm-up round, then N measured rounds; every subject runs
 * once per round, in an order rotated by one each round (for two subjects: A B, B A, A B, ...), so
 * no subject always runs first on a cooler broker or last on a fuller disk. Each run gets fresh
 * topics and groups from `prepare`, its clock starts when the subject is started on input that is
 * already in place and stops by the one rule of watch.ts. The figure is the median of the rounds,
 * with min..max and the IQR as its spread; a ratio is median over median, and the per-round ratios
 * (subject and reference ran back to back in the same round) show how far one round can stray.
 */
import { loadavg } from 'node:os'
import { progress } from './progress.js'
import type { Comparison, Measurement } from './results.js'
import type { Observer } from './observer-client.js'
import { spread } from './stats.js'
import { epochMs, type Observation } from './watch.js'

/** One run's setup, made fresh (and untimed) before the subject starts. */
export interface Run {
  /** What the observer counts for this run. */
  observe: Observation
  /** The count that means the subject is done (output records, committed offsets). */
  expected: number
  /** Untimed checks after the subject stopped (e.g. the output's records are right). */
  verify?(): Promise<void>
}

/** A started subject: `running` rejects if it fails; `stop` ends it (untimed, after the clock stopped). */
export interface Started {
  running: Promise<unknown>
  stop(): Promise<void>
}

export interface Subject<R extends Run> {
  name: string
  /**
   * CPU seconds (user + system, all threads) used so far by the process the subject runs in.
   * @default this process's (process.cpuUsage), for subjects that run in the bench's own process
   */
  cpuSeconds?: () => number
  /** Starts on input already in place and keeps going until `stop`. Must not block on its work. */
  start(run: R): Started
}

export interface CaseSpec<R extends Run> {
  /** What is measured, e.g. "map+filter+produce". */
  name: string
  /** The numerator of records/s: the input records one run handles. */
  records: number
  subjects: Array<Subject<R>>
  prepare(subject: Subject<R>): Promise<R>
}

export interface RoundOptions {
  warmup: number
  rounds: number
  /** The observer process that stops every clock. */
  observer: Observer
  /** Only the subjects whose name contains this (case-insensitive); '' for all. */
  only?: string
}

export interface CaseResult {
  measurements: Measurement[]
  /** The machine's 1-minute load average as each measured round began (other work is noise). */
  load: number[]
  /** Subject against `reference`, from the same rounds (undefined when one of them did not run). */
  compare(reference: string, subject: string, target?: number): Comparison | undefined
}

async function once<R extends Run>(spec: CaseSpec<R>, subject: Subject<R>, observer: Observer) {
  const run = await spec.prepare(subject)
  const bar = progress(subject.name, run.expected, spec.records / run.expected)
  const cpu = subject.cpuSeconds ?? ownCpuSeconds
  const cpuStart = cpu()
  const start = epochMs()
  const started = subject.start(run)
  const failed = started.running.then(
    () => new Promise<never>(() => undefined), // stopping by itself is not done: only the observer says so
    (error: unknown) => {
      throw error instanceof Error ? error : new Error(`failed: ${JSON.stringify(error)}`)
    },
  )
  failed.catch(() => undefined) // reported through the watch below
  let end: number
  try {
    end = await observer.watch(run.observe, run.expected, bar, failed)
  } catch (error) {
    await started.stop().catch(() => undefined)
    const message = error instanceof Error ? error.message : String(error)
    throw new Error(`${spec.name}, ${subject.name}: ${message}`, { cause: error })
  }
  const cpuSeconds = cpu() - cpuStart
  bar.done()
  await started.stop()
  await run.verify?.()
  return { seconds: (end - start) / 1000, cpuSeconds }
}

function ownCpuSeconds(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1e6
}

export async function runCase<R extends Run>(all: CaseSpec<R>, options: RoundOptions): Promise<CaseResult> {
  const only = (options.only ?? '').toLowerCase()
  const spec = { ...all, subjects: all.subjects.filter((s) => s.name.toLowerCase().includes(only)) }
  if (spec.subjects.length === 0) {
    console.error(`${all.name}: skipped, no subject's name contains "${options.only}"`)
    return { measurements: [], load: [], compare: () => undefined }
  }
  const seconds = new Map<string, number[]>(spec.subjects.map((s) => [s.name, []]))
  const cpuSeconds = new Map<string, number[]>(spec.subjects.map((s) => [s.name, []]))
  const load: number[] = []
  const total = options.warmup + options.rounds
  for (let round = 0; round < total; round++) {
    const warm = round < options.warmup
    const shift = round % spec.subjects.length
    const order = [...spec.subjects.slice(shift), ...spec.subjects.slice(0, shift)]
    const title = warm
      ? `warm-up ${round + 1}/${options.warmup}, discarded`
      : `round ${round - options.warmup + 1}/${options.rounds}`
    if (!warm) load.push(Number(loadavg()[0]!.toFixed(2)))
    console.error(`${spec.name}, ${title}: ${order.map((s) => s.name).join(' -> ')}`)
    for (const subject of order) {
      const s = await once(spec, subject, options.observer)
      if (warm) continue
      seconds.get(subject.name)!.push(s.seconds)
      cpuSeconds.get(subject.name)!.push(s.cpuSeconds)
    }
  }
  const measurements = spec.subjects.map((subject): Measurement => {
    const times = seconds.get(subject.name)!
    const rates = times.map((s) => spec.records / s)
    const rate = spread(rates)
    return {
      case: spec.name,
      subject: subject.name,
      records: spec.records,
      recordsPerSec: rate.median,
      seconds: spread(times).median,
      spread: { min: rate.min, q1: rate.q1, q3: rate.q3, max: rate.max },
      rounds: rates,
      recordsPerCpuSecond: spread(cpuSeconds.get(subject.name)!.map((c) => spec.records / c)).median,
    }
  })
  const compare = (reference: string, subject: string, target?: number): Comparison | undefined => {
    const s = measurements.find((x) => x.subject === subject)
    const r = measurements.find((x) => x.subject === reference)
    if (!s || !r) return undefined
    const paired = spread(s.rounds.map((rate, i) => rate / r.rounds[i]!))
    const ratio = s.recordsPerSec / r.recordsPerSec
    return {
      case: spec.name,
      subject,
      reference,
      ratio,
      paired: { median: paired.median, min: paired.min, max: paired.max },
      cpuRatio: s.recordsPerCpuSecond / r.recordsPerCpuSecond,
      ...(target === undefined ? {} : { target, met: ratio >= target }),
    }
  }
  return { measurements, load, compare }
}
