/**
 * The stream an agent body iterates, on one partition task. Asking for the next item tells the
 * runtime that the items handed out before are processed, so their offsets may be committed once
 * their outputs are acknowledged. `take` hands out batches and counts a batch as processed only
 * when the next batch is asked for.
 */

export class AgentStream<T> implements AsyncIterable<T> {
  readonly #inner: AsyncIterator<T>
  readonly #advance: () => void
  #pending: Promise<IteratorResult<T>> | undefined

  constructor(inner: AsyncIterator<T>, advance: () => void) {
    this.#inner = inner
    this.#advance = advance
  }

  #pull(): Promise<IteratorResult<T>> {
    const next = this.#pending ?? this.#inner.next()
    this.#pending = undefined
    return next
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    // A plain iterator, not a generator: one less promise per item on the hot path.
    return {
      next: () => {
        this.#advance()
        return this.#pull()
      },
    }
  }

  /** Items with their position in this task's stream (0, 1, 2, ...). */
  async *enumerate(): AsyncGenerator<[number, T]> {
    let index = 0
    for await (const item of this) yield [index++, item]
  }

  /**
   * Batches of up to `max` items, each closed when full or `withinMs` after its first item. A batch is
   * never empty; the last one may be short when the stream ends.
   */
  async *take(max: number, withinMs: number): AsyncGenerator<T[]> {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`take: max must be a whole number >= 1, got ${max}`)
    for (;;) {
      this.#advance()
      const first = await this.#pull()
      if (first.done) return
      const batch = [first.value]
      const deadline = Date.now() + withinMs
      let ended = false
      while (batch.length < max) {
        const left = deadline - Date.now()
        if (left <= 0) break
        const next = this.#pull()
        let timer: NodeJS.Timeout | undefined
        const timeout = new Promise<'timeout'>(
          (resolve) => (timer = setTimeout(() => resolve('timeout'), left)),
        )
        const step = await Promise.race([next, timeout])
        clearTimeout(timer)
        if (step === 'timeout') {
          // Keep the outstanding request for the next batch: an iterator cannot be asked twice at once.
          this.#pending = next
          break
        }
        if (step.done) {
          ended = true
          break
        }
        batch.push(step.value)
      }
      yield batch
      if (ended) {
        this.#advance()
        return
      }
    }
  }
}
