/**
 * Runs commits one at a time through the commit protocol, so an older offset can never land after
 * a newer one and move the group back. Each commit goes prepare -> commit -> post (protocol.ts).
 */
import type { StreamTask } from '../task/task.js'
import type { CommitProtocol } from './protocol.js'

export class Committer {
  readonly protocol: CommitProtocol
  #chain: Promise<void> = Promise.resolve()
  /** Commits done, for /stats. */
  count = 0

  constructor(protocol: CommitProtocol) {
    this.protocol = protocol
  }

  /** Commits what the given tasks have done; rejects with the commit's failure. */
  commit(tasks: () => readonly StreamTask[]): Promise<void> {
    const next = this.#chain.then(() => this.#run(tasks()))
    this.#chain = next.catch(() => undefined)
    return next
  }

  /** Runs `fn` between two commits, never during one (an abort under exactly-once). */
  run(fn: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(fn)
    this.#chain = next.catch(() => undefined)
    return next
  }

  async #run(tasks: readonly StreamTask[]): Promise<void> {
    // Exactly-once commits without tasks too: app.send() and timers write into the transaction.
    if (tasks.length === 0 && this.protocol.guarantee === 'at_least_once') return
    const prepared = await this.protocol.prepare(tasks)
    try {
      await this.protocol.commit(prepared)
    } catch (error) {
      await this.protocol.onFailure(prepared, error)
      throw error
    }
    this.protocol.postCommit(prepared)
    this.count++
  }
}
