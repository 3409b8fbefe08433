/**
 * When is a topology settled? When every record in every source partition (input topics, and the
 * repartition and through topics the app writes to itself) has been handed to the worker, and the
 * worker is idle: no record waits in a task queue, every handed-out record is done and every output
 * acknowledged (tracker.ts). Outputs hold their record until acknowledged, and the embedded broker
 * appends on send, so an idle worker's outputs are already in the logs the next check reads: the
 * loop ends on a fixed point, not after a sleep.
 */
import { coordinates } from '../errors.js'
import type { Worker } from '../runtime/worker.js'
import type { MemoryBroker } from '../transport/memory/broker.js'
import type { ConsumedRecord } from '../transport/types.js'

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`

/** What is still to be processed, one line each; empty once settled. */
export function pendingWork(worker: Worker, broker: MemoryBroker, groupId: string): string[] {
  const pending: string[] = []
  const positions = new Map(worker.positions().map((p) => [key(p.topic, p.partition), p.position]))
  const group = broker.groups.get(groupId)
  // Under exactly-once the worker reads committed records only: records of its open transaction
  // are not pending for it (the driver commits, and looks again).
  const readCommitted = worker.config.guarantee === 'exactly_once'
  for (const topic of new Set(worker.config.processors.map((p) => p.topic))) {
    for (const log of broker.topics.get(topic)?.logs ?? []) {
      const k = key(topic, log.partition)
      // A task's position, else where its consumer will start: the committed offset, else the log start.
      const from = positions.get(k) ?? group?.committed(topic, log.partition) ?? log.startOffset
      // Reading one visible record, rather than comparing with the end offset, skips transaction
      // markers and compacted holes, which a consumer never gets.
      const probe: ConsumedRecord[] = []
      log.read(from, 1, readCommitted, probe)
      if (probe.length === 0) continue
      const where = coordinates(topic, log.partition)
      pending.push(
        positions.has(k)
          ? `${where}: offsets ${probe[0]!.offset} to ${log.endOffset - 1} not yet taken by the worker`
          : `${where}: not assigned to the worker yet (records from offset ${probe[0]!.offset} wait)`,
      )
    }
  }
  for (const task of worker.tasks())
    if (task.state === 'created' || task.state === 'restoring')
      pending.push(`task ${task.id} is restoring its tables from their changelogs`)
  if (!worker.parked()) {
    const queued = worker.committedOffsets().reduce((n, p) => n + p.queued, 0)
    const busy =
      'records an agent is processing (it has not asked for its next one) or whose outputs are not yet acknowledged'
    pending.push(
      queued > 0
        ? `the worker has ${queued} fetched record(s) queued in its partition tasks, behind any ${busy}`
        : `the worker has ${busy}`,
    )
  }
  return pending
}

export interface SettleWatch {
  /** The pending work now (see pendingWork). */
  pending(): string[]
  /** Throws if the app failed or was stopped: nothing more will be processed. */
  check(): void
  timeoutMs: number
  /** Builds the error for a timeout, from the work still pending. */
  timedOut(pending: string[]): Error
}

/**
 * Waits for two consecutive checks with nothing pending, a macrotask apart (timers and I/O callbacks
 * of the memory broker get their turn). Polls on setImmediate at first, then every few ms, bounded
 * by the timeout.
 */
export async function waitSettled(watch: SettleWatch): Promise<void> {
  const deadline = Date.now() + watch.timeoutMs
  let quiet = 0
  for (let round = 0; ; round++) {
    watch.check()
    const pending = watch.pending()
    quiet = pending.length === 0 ? quiet + 1 : 0
    if (quiet >= 2) return
    if (pending.length > 0 && Date.now() > deadline) throw watch.timedOut(pending)
    await new Promise<void>((resolve) => {
      if (round < 64) setImmediate(resolve)
      else setTimeout(resolve, Math.min(5, round - 63))
    })
  }
}
