/** The test driver's own error: settle() ran out of time, with the work still pending. */
import { TributaryError } from '../errors.js'

export class SettleTimeoutError extends TributaryError {
  /** What was still to be processed, one line each (a partition behind, records in process). */
  readonly pending: readonly string[]

  constructor(timeoutMs: number, pending: readonly string[]) {
    super(
      'TIMEOUT',
      `The topology did not settle within ${timeoutMs} ms; still pending:\n  - ${pending.join('\n  - ')}`,
    )
    this.name = 'SettleTimeoutError'
    this.pending = pending
  }
}
