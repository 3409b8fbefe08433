/** Runs a platformatic call with error mapping and a bound on how long an unreachable cluster can stall it. */
import { protocolIds, toTributaryError, unreachable, type ErrorContext } from './errors.js'
import { UNREACHABLE_AFTER_MS, type ResolvedConnection } from './options.js'

/** What an error is about, when one thing is: named in the message and set on the error. */
export interface Subject {
  topic?: string | undefined
  partition?: number | undefined
  group?: string | undefined
}

/**
 * One per platformatic client. Until the cluster has answered this client (or another client of
 * its transport: `connection.reached`) once, every call races
 * a deadline: platformatic tries bootstrap brokers one after the other (each up to connectTimeout),
 * retries, and a host that accepts connections but never replies holds a request for the whole
 * request timeout, so a dead cluster could take minutes to report. Once the cluster answered (a
 * call succeeded, or the broker returned an error of its own), calls run unbounded: a JoinGroup
 * may legitimately wait for a whole rebalance.
 */
export class Link {
  #answered = false
  readonly connection: ResolvedConnection

  constructor(connection: ResolvedConnection) {
    this.connection = connection
  }

  /** Whether the cluster has answered this client or its transport once: from then on, outages are ridden through. */
  get answered(): boolean {
    return this.#answered || this.connection.reached.answered
  }

  #heard(): void {
    this.#answered = true
    this.connection.reached.answered = true
  }

  context(action: string, subject: Subject = {}): ErrorContext {
    const { brokers, sasl } = this.connection
    return {
      action,
      brokers,
      sasl: sasl && { mechanism: sasl.mechanism, username: sasl.username },
      ...subject,
    }
  }

  /** Runs `operation`, mapping its failure to a TributaryError that says what `action` was. */
  async run<T>(action: string, operation: () => Promise<T>, subject: Subject = {}): Promise<T> {
    try {
      const result = this.answered
        ? await operation()
        : await this.#bounded(operation(), () => this.context(action, subject))
      this.#heard()
      return result
    } catch (error) {
      if (protocolIds(error).length > 0) this.#heard()
      throw toTributaryError(error, this.context(action, subject))
    }
  }

  #bounded<T>(promise: Promise<T>, context: () => ErrorContext): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        // The cluster answered another call meanwhile: this one is under way, let it finish.
        if (!this.answered)
          reject(unreachable(context(), [], `no answer within ${UNREACHABLE_AFTER_MS / 1000} s`))
      }, UNREACHABLE_AFTER_MS)
      promise.then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (error: Error) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })
  }
}
