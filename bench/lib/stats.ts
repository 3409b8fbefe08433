/** Order statistics of a bench's rounds: the median as the figure, min..max and the IQR as its spread. */

export interface Spread {
  min: number
  /** First quartile (25th percentile, linear interpolation between the closest ranks). */
  q1: number
  median: number
  /** Third quartile (75th percentile). */
  q3: number
  max: number
}

/** The p-quantile (0..1) of the values, interpolated linearly between the two closest ranks. */
export function quantile(values: number[], p: number): number {
  if (values.length === 0) throw new Error('quantile of no values')
  const sorted = [...values].sort((a, b) => a - b)
  const at = (sorted.length - 1) * p
  const low = Math.floor(at)
  const high = Math.ceil(at)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low)
}

export function spread(values: number[]): Spread {
  return {
    min: Math.min(...values),
    q1: quantile(values, 0.25),
    median: quantile(values, 0.5),
    q3: quantile(values, 0.75),
    max: Math.max(...values),
  }
}
