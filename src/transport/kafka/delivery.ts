/**
 * Delivers one produce request through transient failures (a broker restarting, a leader moving,
 * a refused connection) until its delivery deadline, as Kafka's producer does within
 * delivery.timeout.ms. Partitions the broker already acknowledged are not sent again: an
 * idempotent producer numbers a partition's batch once (its sequence moves on only when the batch
 * was acknowledged: produce.ts, and platformatic's producer in transactions), so a retry of the rest carries the same sequence numbers and
 * the broker drops any copy it already wrote instead of writing it twice.
 */
import type { Link } from './link.js'
import type { OutMessage, Produced, ProducedOffset } from './produce.js'
import { retryTransient } from './retry.js'

/** Offsets as produce.ts or platformatic (bigint offsets) report them. */
interface Reported {
  offsets?: Array<{ topic: string; partition: number; offset: number | bigint }>
}

/** What was written before a send failed (its error's `produced`), anywhere in the tree. */
function producedIn(error: unknown, depth = 0): ProducedOffset[] {
  if (error === null || typeof error !== 'object' || depth > 8) return []
  const found = error as { produced?: Reported; cause?: unknown; errors?: unknown[] }
  const own = found.produced?.offsets ?? []
  if (own.length > 0)
    return own.map(({ topic, partition, offset }) => ({ topic, partition, offset: Number(offset) }))
  const inner = [found.cause, ...(Array.isArray(found.errors) ? found.errors : [])]
  for (const e of inner) {
    const offsets = producedIn(e, depth + 1)
    if (offsets.length > 0) return offsets
  }
  return []
}

const key = (topic: string, partition: number | undefined): string => `${topic}:${partition}`

export async function deliver(
  link: Link,
  action: string,
  deadline: number,
  messages: OutMessage[],
  send: (messages: OutMessage[]) => Promise<Produced>,
): Promise<Produced> {
  const written: ProducedOffset[] = []
  let pending = messages
  return retryTransient(link, deadline, async () => {
    if (pending.length === 0) return { offsets: written }
    try {
      const result = await link.run(action, () => send(pending))
      return written.length === 0 ? result : { ...result, offsets: [...written, ...(result.offsets ?? [])] }
    } catch (error) {
      const produced = producedIn(error)
      if (produced.length > 0) {
        written.push(...produced)
        const done = new Set(produced.map((o) => key(o.topic, o.partition)))
        pending = pending.filter((m) => !done.has(key(m.topic, m.partition)))
      }
      throw error
    }
  })
}
