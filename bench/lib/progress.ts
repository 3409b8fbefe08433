/** Progress of a long run: a live line on a terminal, a line per quarter otherwise (CI logs). */

export interface Progress {
  add(n: number): void
  /** Sets the count seen so far, e.g. from an observer of the output topic's end offsets. */
  set(count: number): void
  done(): void
}

/**
 * `scale` turns the count into the records the rate is of: a run observed by a few marker records,
 * or by output records fewer than its input, shows the rate of the records it handles.
 */
export function progress(label: string, total: number, scale = 1): Progress {
  const tty = process.stderr.isTTY
  const start = performance.now()
  let count = 0
  let shown = -1
  let last = 0
  const rate = (): string =>
    `${Math.round((count * scale) / ((performance.now() - start) / 1000)).toLocaleString('en-US')} rec/s`
  const show = (): void => {
    const pct = Math.min(100, Math.floor((count / total) * 100))
    if (tty) {
      const now = performance.now()
      if (now - last < 200 && count < total) return
      last = now
      process.stderr.write(
        `\r  ${label}: ${pct}% ${count.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${rate()}   `,
      )
    } else if (Math.floor(pct / 25) > shown) {
      shown = Math.floor(pct / 25)
      process.stderr.write(`  ${label}: ${pct}% ${rate()}\n`)
    }
  }
  return {
    add(n) {
      count += n
      show()
    },
    set(n) {
      count = n
      show()
    },
    done() {
      count = Math.max(count, total)
      if (tty)
        process.stderr.write(
          `\r  ${label}: 100% in ${((performance.now() - start) / 1000).toFixed(2)} s, ${rate()}        \n`,
        )
      else
        process.stderr.write(
          `  ${label}: done in ${((performance.now() - start) / 1000).toFixed(2)} s, ${rate()}\n`,
        )
    },
  }
}
