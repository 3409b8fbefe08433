/** The bench's command-line flags: `--records N --rounds N --warmup N --only TEXT` and a bench's own. */

export interface BenchArgs {
  /** Records per run (input records for a pipeline, records sent or read for the transport). */
  records: number
  /** Measured rounds; each subject runs once per round, in alternating order. */
  rounds: number
  /** Rounds run first and discarded (JIT, broker page cache, JVM class loading). */
  warmup: number
  /**
   * Runs only the subjects whose name contains this text (case-insensitive), e.g. to profile one
   * with `node --cpu-prof`; comparisons with a subject left out are not made. @default '' (all)
   */
  only: string
}

/** Fewer measured rounds cannot tell a regression from noise: a median of two is their mean. */
const MIN_ROUNDS = 5

const kebab = (name: string): string => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

/**
 * Reads `--<kebab-name> VALUE` for every key of `defaults` (so `streamThreads` is `--stream-threads`),
 * a whole number where the default is a number. Unknown flags and bad numbers are refused, naming
 * the flag; `--rounds` below five is refused rather than quietly run, and so is `--warmup 0`: every
 * bench discards one.
 */
export function benchArgs<T extends BenchArgs>(args: string[], defaults: T): T {
  const names = new Map(Object.keys(defaults).map((key) => [kebab(key), key]))
  const result: Record<string, number | string> = { ...(defaults as unknown as Record<string, number>) }
  for (let i = 0; i < args.length; i += 2) {
    const key = names.get(args[i]!)
    if (!key) throw new Error(`Unknown flag ${args[i]}; known: ${[...names.keys()].join(', ')}`)
    const text = args[i + 1]
    if (text === undefined) throw new Error(`${args[i]} needs a value`)
    if (typeof result[key] === 'string') {
      result[key] = text
      continue
    }
    const min = key === 'rounds' ? MIN_ROUNDS : 1
    const value = Number(text)
    if (!Number.isInteger(value) || value < min)
      throw new Error(`${args[i]} must be a whole number >= ${min}, got ${text}`)
    result[key] = value
  }
  return result as unknown as T
}
