/**
 * The open windows of one windowed table on one task, by the stream time at which each closes, so
 * that a record moving stream time closes exactly the windows it passed, oldest first, without a
 * sweep over the store. Windows of one kind close at few distinct times (every key's minute window
 * closes at the same instant), so the index is a min-heap of distinct closing times, each with the
 * windows that close then. Rebuilt from the store after a restore (the store is the truth).
 */

export class PendingWindows<W> {
  /** Distinct closing times, a binary min-heap. */
  readonly #times: number[] = []
  readonly #at = new Map<number, Map<string, W>>()
  #size = 0

  get size(): number {
    return this.#size
  }

  /** Adds (or replaces) the window `id` that closes at `closesAt`. */
  add(closesAt: number, id: string, window: W): void {
    let group = this.#at.get(closesAt)
    if (!group) {
      this.#at.set(closesAt, (group = new Map<string, W>()))
      this.#push(closesAt)
    }
    if (!group.has(id)) this.#size++
    group.set(id, window)
  }

  /** Forgets window `id` (a session merged into another one). */
  remove(closesAt: number, id: string): void {
    const group = this.#at.get(closesAt)
    if (group?.delete(id)) this.#size--
    // An emptied group stays in the heap until its time comes: take() skips it.
  }

  /** The earliest closing time of an open window, if any. */
  next(): number | undefined {
    while (this.#times.length > 0) {
      const time = this.#times[0]!
      if ((this.#at.get(time)?.size ?? 0) > 0) return time
      this.#pop()
      this.#at.delete(time)
    }
    return undefined
  }

  /** Removes and returns the windows that close at or before `streamTime`, by closing time. */
  take(streamTime: number): W[] {
    const due: W[] = []
    for (let time = this.next(); time !== undefined && time <= streamTime; time = this.next()) {
      const group = this.#at.get(time)!
      for (const window of group.values()) due.push(window)
      this.#size -= group.size
      this.#at.delete(time)
      this.#pop()
    }
    return due
  }

  /** Removes and returns every open window (closed by an idle timeout), by closing time. */
  takeAll(): W[] {
    return this.take(Infinity)
  }

  clear(): void {
    this.#times.length = 0
    this.#at.clear()
    this.#size = 0
  }

  #push(time: number): void {
    const heap = this.#times
    heap.push(time)
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1
      if (heap[parent]! <= heap[i]!) break
      ;[heap[parent], heap[i]] = [heap[i]!, heap[parent]!]
      i = parent
    }
  }

  #pop(): void {
    const heap = this.#times
    const last = heap.pop()!
    if (heap.length === 0) return
    heap[0] = last
    for (let i = 0; ;) {
      const l = 2 * i + 1
      const r = l + 1
      let least = i
      if (l < heap.length && heap[l]! < heap[least]!) least = l
      if (r < heap.length && heap[r]! < heap[least]!) least = r
      if (least === i) break
      ;[heap[least], heap[i]] = [heap[i]!, heap[least]!]
      i = least
    }
  }
}
