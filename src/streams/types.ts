/** The user-facing types of streams and agents. */
import type { Headers } from '../transport/types.js'

/** One record as an agent sees it, and the error policies: the runtime's types, re-exported. */
export type { Event, ErrorPolicy } from '../runtime/types.js'

/** A record to send through a typed topic. */
export interface OutgoingRecord<K, V> {
  key?: K
  value: V
  headers?: Headers
  partition?: number
  timestamp?: number
}
