/** The shape of a bench result (bench/results/<name>.json) and the ratio against its baseline. */

export interface Measurement {
  /** What ran, e.g. "produce" or "consume". */
  case: string
  /** Who ran it, e.g. "tributary kafka://", "@platformatic/kafka", "Kafka ProducerPerformance". */
  subject: string
  records: number
  /** Median records/s over the measured rounds. */
  recordsPerSec: number
  /** Median seconds over the measured rounds. */
  seconds: number
  /** Records/s: lowest, quartiles, highest of the measured rounds. */
  spread: { min: number; q1: number; q3: number; max: number }
  /** Records/s of each measured round, in round order. */
  rounds: number[]
  /**
   * Median of records per CPU second of the subject's process (all its threads, the broker's not
   * counted) while its clock ran: how much work a record costs, which other load on the machine
   * disturbs far less than it does records/s. The observer runs in a process of its own and is
   * counted for no subject.
   */
  recordsPerCpuSecond: number
}

export interface Comparison {
  case: string
  subject: string
  reference: string
  /** Median records/s of subject over that of reference. */
  ratio: number
  /** Subject over reference within each round (they ran back to back): median, lowest, highest. */
  paired: { median: number; min: number; max: number }
  /** Records per CPU second of subject over that of reference (medians). */
  cpuRatio: number
  /** The ratio the subject must stay at or above, where the project set one. */
  target?: number
  met?: boolean
}

export interface Report {
  name: string
  date: string
  environment: Record<string, string | number>
  /** How the clock starts and stops, and how rounds run. */
  method: string
  /** The subject each case's ratio column is taken against. */
  baseline: string
  measurements: Measurement[]
  comparisons: Comparison[]
}

export function ratio(report: Report, m: Measurement): number | undefined {
  const base = report.measurements.find((b) => b.case === m.case && b.subject === report.baseline)
  return base ? m.recordsPerSec / base.recordsPerSec : undefined
}
