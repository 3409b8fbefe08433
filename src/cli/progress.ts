/** The produce progress display on a terminal: a bar when the total is known, else a running count and rate. */
import type { Writable } from 'node:stream'
import cliProgress from 'cli-progress'

export interface Progress {
  update(delivered: number): void
  /** Removes the display, so the summary line that follows stands alone. */
  stop(): void
}

const NONE: Progress = { update() {}, stop() {} }

/** A display only when `stream` is a terminal: piped or redirected stderr stays free of control codes. */
export function createProgress(stream: Writable, total: number | undefined): Progress {
  if ((stream as Writable & { isTTY?: boolean }).isTTY !== true) return NONE
  const started = Date.now()
  const known = total !== undefined && total > 0
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: known
        ? '{bar} {percentage}% | {value}/{total} delivered | {rate} rec/s | ETA {eta_formatted}'
        : '{value} delivered | {rate} rec/s | {duration_formatted}',
      clearOnComplete: true,
      hideCursor: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(known ? total : 0, 0, { rate: 0 })
  return {
    update(delivered) {
      const elapsed = Date.now() - started
      bar.update(delivered, { rate: elapsed > 0 ? Math.round((delivered * 1000) / elapsed) : 0 })
    },
    stop() {
      bar.stop()
    },
  }
}
