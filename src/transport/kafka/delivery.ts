/**
 * Delivers one produce request through transient failures (a broker restarting, a leader moving,
 * a refused connection) until its delivery deadline, as Kafka's producer does within
 * delivery.timeout.ms. Partitions the broker already acknowledged are not sent again: an
 * idempotent producer numbers a partition's batch once (platformatic moves a partition's sequence
 * on only when it was acknowledged), so a retry of the rest carries the same sequence numbers and
 * the broker drops any copy it already wrote instead of writing it twice.
 */
import type { MessageToProduce, ProduceResult } from '@platformatic/kafka'
import type { Link } from './link.js'
import { retryTransient } from './retry.js'

type Offsets = NonNullable<ProduceResult['offsets']>

/** What platformatic says was written before a send failed (its error's `produced`), anywhere in the tree. */
function producedIn(error: unknown, depth = 0): Offsets {
  if (error === null || typeof error !== 'object' || depth > 8) return []
  const found = error as { produced?: ProduceResult; cause?: unknown; errors?: unknown[] }
  const own = found.produced?.offsets ?? []
  if (own.length > 0) return own
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
  messages: MessageToProduce[],
  send: (messages: MessageToProduce[]) => Promise<ProduceResult>,
): Promise<ProduceResult> {
  const written: Offsets = []
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
