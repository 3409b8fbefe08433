/**
 * Window kinds on event time, as Kafka Streams defines them. A time window is half-open,
 * `[start, end)`; tumbling and hopping windows are epoch-aligned (their starts are multiples of the
 * advance). A sliding window (Kafka Streams' SlidingWindows) spans `size` ms with both ends
 * inclusive, and exists for every distinct set of records that fit in it. A session is inclusive,
 * `[first record, last record]`, and grows or merges while records come within `gap` of it.
 *
 * Every kind has a grace period: a window stays open while the task's stream time minus grace has
 * not reached its end (a record of a closed window is late), and a retention: how long after its
 * start a window stays readable (and in the changelog); by default it leaves when it closes.
 */
import { TributaryError } from '../errors.js'
import { knownKeys } from '../validate.js'

/** A window's bounds in ms since the epoch: `[start, end)` for time windows, `[start, end]` for sliding and session windows. */
export interface TimeWindow {
  readonly start: number
  readonly end: number
}

export interface WindowOptions {
  /** How long after a window's end records are still taken into it (out-of-order data). @default 0 */
  grace?: number
  /** How long after its start a window is kept (readable, in the changelog), at least size + grace. @default size + grace: a window leaves the store when it closes */
  retention?: number
}

interface Common {
  readonly grace: number
  readonly retention: number
}

export interface TumblingWindows extends Common {
  readonly kind: 'tumbling'
  readonly size: number
}

export interface HoppingWindows extends Common {
  readonly kind: 'hopping'
  readonly size: number
  readonly advance: number
}

export interface SlidingWindows extends Common {
  readonly kind: 'sliding'
  /** The largest time difference between two records of one window (both ends inclusive). */
  readonly size: number
}

export interface SessionWindows extends Common {
  readonly kind: 'session'
  /** The inactivity gap: a record further than this from every session of its key opens a new one. */
  readonly gap: number
}

export type Windows = TumblingWindows | HoppingWindows | SlidingWindows | SessionWindows

function duration(kind: string, what: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `${kind} windows: ${what} must be a whole number of milliseconds >= ${min}, got ${String(value)}`,
    )
  return value
}

function common(kind: string, span: number, options: WindowOptions): Common {
  knownKeys(`${kind} windows: option`, options, ['grace', 'retention'])
  const grace = options.grace === undefined ? 0 : duration(kind, 'grace', options.grace, 0)
  const retention =
    options.retention === undefined ? span + grace : duration(kind, 'retention', options.retention, 0)
  if (retention < span + grace)
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `${kind} windows: retention (${retention} ms) must be at least the window's span plus grace (${span + grace} ms)`,
    )
  return { grace, retention }
}

/** Fixed-size, non-overlapping windows `[n * size, (n + 1) * size)`: each record is in exactly one. */
export function tumbling(size: number, options: WindowOptions = {}): TumblingWindows {
  duration('tumbling', 'size', size, 1)
  return { kind: 'tumbling', size, ...common('tumbling', size, options) }
}

/** Fixed-size windows that start every `advance` ms: a record is in `size / advance` of them. */
export function hopping(size: number, advance: number, options: WindowOptions = {}): HoppingWindows {
  duration('hopping', 'size', size, 1)
  duration('hopping', 'advance', advance, 1)
  if (advance > size)
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `hopping windows: advance (${advance} ms) must not exceed size (${size} ms); windows would leave gaps`,
    )
  return { kind: 'hopping', size, advance, ...common('hopping', size, options) }
}

/** Windows of `size` ms (both ends inclusive) over every distinct set of records that fit in one (Kafka Streams' SlidingWindows). */
export function sliding(size: number, options: WindowOptions = {}): SlidingWindows {
  duration('sliding', 'size', size, 1)
  return { kind: 'sliding', size, ...common('sliding', size, options) }
}

/** Sessions of activity per key, closed by `gap` ms without a record; a record that bridges two sessions merges them. */
export function session(gap: number, options: WindowOptions = {}): SessionWindows {
  duration('session', 'gap', gap, 1)
  return { kind: 'session', gap, ...common('session', gap, options) }
}

/**
 * The time windows (tumbling or hopping) that contain `timestamp`, oldest first: those whose start
 * is a multiple of the advance in `(timestamp - size, timestamp]`, none starting before the epoch.
 */
export function windowsFor(windows: TumblingWindows | HoppingWindows, timestamp: number): TimeWindow[] {
  const advance = windows.kind === 'tumbling' ? windows.size : windows.advance
  const first = Math.max(0, timestamp - windows.size + advance)
  const result: TimeWindow[] = []
  for (let start = first - (first % advance); start <= timestamp; start += advance)
    result.push({ start, end: start + windows.size })
  return result
}

/** When a window closes: the stream time at or past which no record can reach it any more. */
export function closesAt(windows: Windows, window: TimeWindow): number {
  switch (windows.kind) {
    case 'tumbling':
    case 'hopping':
      return window.end + windows.grace
    case 'sliding':
      // Inclusive end: a record at `end` still belongs to it.
      return window.end + 1 + windows.grace
    case 'session':
      // A record within the gap of its end would still extend it.
      return window.end + windows.gap + 1 + windows.grace
  }
}

/**
 * How long after its start (a session: after its end) a window stays in the store: its retention;
 * for sliding windows at least until no record that is not late can need it (a new sliding window
 * takes its value over from one that starts up to twice the size before the record).
 */
export function keptFor(windows: Windows): number {
  return windows.kind === 'sliding'
    ? Math.max(windows.retention, 3 * windows.size + 2 + windows.grace)
    : windows.retention
}

/** Describes a window's bounds: `[0, 1000)` for time windows, `[0, 1000]` for sliding and session windows. */
export function describeWindow(windows: Windows, window: TimeWindow): string {
  const inclusive = windows.kind === 'sliding' || windows.kind === 'session'
  return `[${window.start}, ${window.end}${inclusive ? ']' : ')'}`
}

/** Whether `window` is closed at stream time `streamTime` (a record for it is late). */
export function isClosed(windows: Windows, window: TimeWindow, streamTime: number): boolean {
  return streamTime >= closesAt(windows, window)
}

/** Describes windows for messages: `tumbling 60000 ms (grace 5000 ms)`. */
export function describeWindows(windows: Windows): string {
  const grace = windows.grace > 0 ? ` (grace ${windows.grace} ms)` : ''
  switch (windows.kind) {
    case 'tumbling':
      return `tumbling ${windows.size} ms${grace}`
    case 'hopping':
      return `hopping ${windows.size} ms every ${windows.advance} ms${grace}`
    case 'sliding':
      return `sliding ${windows.size} ms${grace}`
    case 'session':
      return `sessions with a ${windows.gap} ms gap${grace}`
  }
}
