/**
 * What an error means for a worker (Kafka Streams' handling in StreamThread/TaskManager):
 *
 * - transient: the cluster is restarting, a leader or coordinator is moving, a request timed out.
 *   Retry with backoff and ride it through; the worker keeps its tasks.
 * - migrated: the group moved on without us (REBALANCE, FENCED: our generation is stale, another
 *   member may own our partitions). Drop the tasks without committing (they are lost) and rejoin.
 * - corrupted: a task's position or state cannot be trusted (offsets out of range). Rewind the task
 *   to its last committed offset.
 * - fatal: anything else (bad credentials, missing topic, a record under the `fail` policy). Stop,
 *   naming what and where.
 */
import { TributaryError } from '../errors.js'

export type FaultKind = 'transient' | 'migrated' | 'corrupted' | 'fatal'

const MIGRATED = new Set(['REBALANCE', 'FENCED'])

export function classify(error: unknown): FaultKind {
  if (!(error instanceof TributaryError)) return 'fatal'
  if (MIGRATED.has(error.code)) return 'migrated'
  if (error.code === 'BROKER_UNREACHABLE' || error.code === 'TIMEOUT' || error.canRetry) return 'transient'
  if (error.code === 'KAFKA' && /OFFSET_OUT_OF_RANGE/.test(error.message)) return 'corrupted'
  return 'fatal'
}
