/**
 * The group's session clock: one unref'd timer, armed for the earliest session deadline of its
 * members, so an idle group never keeps the process alive and a dead member is evicted on time.
 */
import type { Member } from './member.js'

export class SessionTimer {
  private timer: NodeJS.Timeout | undefined
  private deadline = Infinity
  private stopped = false

  constructor(private readonly expire: () => void) {}

  /** Re-arms for the earliest deadline among `members` (a later one waits for the current timer). */
  arm(members: Iterable<Member>): void {
    if (this.stopped) return
    let deadline = Infinity
    for (const m of members) deadline = Math.min(deadline, m.lastSeen + m.sessionTimeoutMs)
    if (deadline === Infinity || deadline >= this.deadline) return
    clearTimeout(this.timer)
    this.deadline = deadline
    this.timer = setTimeout(
      () => {
        this.timer = undefined
        this.deadline = Infinity
        this.expire()
      },
      Math.max(0, deadline - Date.now()) + 1,
    )
    this.timer.unref()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }
}
