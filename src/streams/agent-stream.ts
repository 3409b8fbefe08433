/**
 * The stream an agent body iterates, on one partition task. Asking for the next item tells the
 * runtime that the items handed out before are processed, so their offsets may be committed once
 * their outputs are acknowledged. `take` hands out batches and counts a batch as processed only
 * when the next batch is asked for.
 */

/** Where an AgentStream takes its items from: the task's next item, or none within a time. */
export interface ItemSource<T> {
  next(): Promise<IteratorResult<T>>
  /**
   * The next item if one comes within `ms`, else 'timeout' — and then nothing was taken: a record
   * must never be taken for a batch that has already been handed to the body.
   */
  nextWithin(ms: number): Promise<IteratorResult<T> | 'timeout'>
  /** Marks the items taken so far as processed. */
  advance(): void
  /** The app's clock: `take`'s time limits run on it (the test driver moves it). */
  now(): number
}

export class AgentStream<T> implements AsyncIterable<T> {
  readonly #source: ItemSource<T>

  /** @internal (made by the app: app.topic, app.agent, app.compile) */
  constructor(source: ItemSource<T>) {
    this.#source = source
  }

  #advance(): void {
    this.#source.advance()
  }

  #pull(): Promise<IteratorResult<T>> {
    return this.#source.next()
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
      const deadline = this.#source.now() + withinMs
      let ended = false
      while (batch.length < max) {
        const left = deadline - this.#source.now()
        if (left <= 0) break
        const step = await this.#source.nextWithin(left)
        if (step === 'timeout') break
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
