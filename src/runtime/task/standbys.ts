/**
 * The worker's standby tasks: the copies the group's plan gives it (standby.ts), started and closed
 * as the plan changes, and handed to an active task of the same id when the task moves here.
 */
import { parseTaskId } from '../assignment/task-ids.js'
import type { Subtopology } from '../types.js'
import { StandbyTask, type HandedStore, type StandbyHost } from './standby.js'

export class StandbyManager {
  readonly #subtopologies: readonly Subtopology[]
  /** Asked when needed: the worker's id and state directory are known only once it starts. */
  readonly #host: () => StandbyHost
  readonly #standbys = new Map<string, StandbyTask>()
  readonly #closing = new Set<Promise<void>>()
  #closed = false

  constructor(subtopologies: readonly Subtopology[], host: () => StandbyHost) {
    this.#subtopologies = subtopologies
    this.#host = host
  }

  /**
   * Brings the copies in line with the plan: `standbys` are wanted; a copy of a task planned as
   * active here (`planned`) is kept for it to take over; a task that runs here (`runs`) gets no
   * copy until it has closed (the worker reconciles again then).
   */
  reconcile(standbys: readonly string[], planned: readonly string[], runs: (id: string) => boolean): void {
    if (this.#closed) return
    const wanted = new Set(standbys)
    const keep = new Set(planned)
    for (const [id, standby] of this.#standbys) {
      if (wanted.has(id) || keep.has(id)) continue
      this.#standbys.delete(id)
      this.#track(standby.close())
    }
    for (const id of wanted) {
      if (this.#standbys.has(id) || runs(id)) continue
      const { subtopology, partition } = parseTaskId(id)
      const stores = this.#subtopologies.find((s) => s.id === subtopology)?.stores ?? []
      if (stores.length === 0) continue
      const standby = new StandbyTask(id, partition, stores, this.#host())
      this.#standbys.set(id, standby)
      standby.start()
      this.#host().log('info', `standby task ${id}: keeping a copy of its stores`, {
        event: 'standby',
        task: id,
      })
    }
  }

  #track(closing: Promise<void>): void {
    const done = closing.catch((error: unknown) =>
      this.#host().log('warn', `closing a standby task failed: ${String(error)}`),
    )
    this.#closing.add(done)
    void done.finally(() => this.#closing.delete(done))
  }

  /** The copy's stores for the active task `id`, its tailing stopped; undefined when there is none. */
  async adopt(id: string): Promise<ReadonlyMap<string, HandedStore> | undefined> {
    const standby = this.#standbys.get(id)
    if (!standby) return undefined
    this.#standbys.delete(id)
    const handed = await standby.release()
    this.#host().log('info', `task ${id}: taking over the stores of its standby copy`, {
      event: 'standby-promoted',
      task: id,
    })
    return handed
  }

  /** Per standby task, the changelog offsets its copy holds (for the assignor's placement). */
  offsets(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [id, standby] of this.#standbys) out[id] = standby.offsets()
    return out
  }

  list(): StandbyTask[] {
    return [...this.#standbys.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /** Closes every copy (checkpoints kept) and waits for those closing already. */
  async close(): Promise<void> {
    this.#closed = true
    for (const standby of this.#standbys.values()) this.#track(standby.close())
    this.#standbys.clear()
    await Promise.all([...this.#closing])
  }
}
