/** One member of a consumer group on the embedded broker, as the group coordinator keeps it. */
import type { GroupAssignor, TopicPartition } from '../../types.js'

/**
 * Why a member is no longer in its group. 'left': it closed. 'evicted': its heartbeats stopped for
 * its session timeout. 'fenced': a newer member with the same groupInstanceId replaced it.
 */
export type GoneReason = 'left' | 'evicted' | 'fenced'

/** What a consumer gives the group when it joins (Kafka's JoinGroup request). */
export interface JoinRequest {
  clientId: string
  /** Static membership (KIP-345). */
  instanceId: string | undefined
  topics: readonly string[]
  assignor: GroupAssignor
  sessionTimeoutMs: number
  /** Wakes the member's consumer (a waiting poll) when its assignment or membership changed. */
  wake: () => void
}

export class Member {
  /** What the member's assignment of `generation` gives it (partitions withheld for a hand-over excluded). */
  readonly target = new Map<string, TopicPartition>()
  /** What it holds now: claimed, not yet released. Commits are accepted for these only. */
  readonly owned = new Map<string, TopicPartition>()
  /** The generation `target` belongs to; 0 until the first one is formed with this member in it. */
  generation = 0
  /** Whether it was the leader (the member whose assignor ran) in `generation`. */
  leader = false
  /** What the leader's assignor told this member in `generation`. */
  userData: Buffer | null = null
  /** The generation whose assignment `owned` reflects (the `generation` of its subscription). */
  ownedGeneration = -1
  topics: Set<string>
  assignor: GroupAssignor
  /** The last heartbeat (or commit, which also proves a member alive in Kafka's classic protocol). */
  lastSeen = Date.now()
  gone: GoneReason | undefined
  /** What this member's own code (its assignor) threw while a generation was formed: its next poll throws it. */
  failure: unknown

  constructor(
    readonly id: string,
    /** Join order: the lowest in the group is its leader, as Kafka keeps the first member that joined. */
    readonly seq: number,
    readonly request: JoinRequest,
  ) {
    this.topics = new Set(request.topics)
    this.assignor = request.assignor
  }

  get clientId(): string {
    return this.request.clientId
  }

  get instanceId(): string | undefined {
    return this.request.instanceId
  }

  get sessionTimeoutMs(): number {
    return this.request.sessionTimeoutMs
  }

  wake(): void {
    this.request.wake()
  }
}
