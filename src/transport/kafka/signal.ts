/** Wakes a waiting `poll` when records arrive or the assignment changes. */
export class Signal {
  #waiters: Array<() => void> = []

  notify(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }

  /** Resolves on the next `notify`, or after `ms`; a timed-out waiter removes itself (no leak while idle). */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(
        () => {
          const index = this.#waiters.indexOf(wake)
          if (index >= 0) this.#waiters.splice(index, 1)
          resolve()
        },
        Math.max(0, ms),
      )
      this.#waiters.push(wake)
    })
  }
}
