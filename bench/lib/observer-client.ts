/** The bench's side of the observer process (observer.ts): one per bench run. */
import { join } from 'node:path'
import { PeerProcess } from './peer-process.js'
import type { Progress } from './progress.js'
import type { Observation } from './watch.js'

export class Observer {
  readonly #peer: PeerProcess
  #next = 1

  private constructor(peer: PeerProcess) {
    this.#peer = peer
  }

  static async open(broker: string): Promise<Observer> {
    const peer = new PeerProcess('observer', process.execPath, [
      '--import',
      'tsx',
      join(import.meta.dirname, 'observer.ts'),
      broker,
    ])
    await peer.next((line) => line === 'ready')
    return new Observer(peer)
  }

  /**
   * Resolves with the wall-clock ms (epochMs) at which the count reached `expected`. Rejects with
   * the subject's failure if `failed` rejects first, or when the count has not moved for `stallMs`.
   */
  async watch(
    observation: Observation,
    expected: number,
    bar: Progress,
    failed: Promise<never>,
    stallMs = 60_000,
  ): Promise<number> {
    const id = this.#next++
    let last = -1
    let stall: NodeJS.Timeout | undefined
    let stalled: (error: Error) => void = () => undefined
    const stalling = new Promise<never>((_, reject) => (stalled = reject))
    const moved = (): void => {
      clearTimeout(stall)
      stall = setTimeout(
        () => stalled(new Error(`stalled at ${last} of ${expected} for ${stallMs / 1000} s`)),
        stallMs,
      )
    }
    moved()
    this.#peer.onLine = (line) => {
      const [verb, of, value] = line.split(' ')
      if (verb !== 'count' || Number(of) !== id) return
      const count = Number(value)
      bar.set(Math.min(count, expected))
      if (count !== last) moved()
      last = count
    }
    const done = this.#peer.next((line) => line.startsWith(`done ${id} `) || line.startsWith(`error ${id} `))
    done.catch(() => undefined) // settled by the race below, or left behind when the subject failed
    this.#peer.send(`watch ${JSON.stringify({ id, observation, expected })}`)
    try {
      const line = await Promise.race([done, failed, stalling])
      if (line.startsWith('error')) throw new Error(`observer: ${line}`)
      bar.set(expected)
      return Number(line.split(' ')[2])
    } catch (error) {
      this.#peer.send('cancel')
      throw error
    } finally {
      clearTimeout(stall)
      this.#peer.onLine = undefined
    }
  }

  close(): Promise<void> {
    return this.#peer.close('')
  }
}
