/** Runs a chain of stateless operators over a task's event stream. */
import type { Op } from '../streams/stream.js'
import type { ProducerRecord } from '../transport/types.js'
import type { TaskContext } from './context.js'
import type { AnyEvent } from './types.js'

/** The original bytes of an event, addressed to another topic (forward and branch never re-encode). */
export function forwarded(event: AnyEvent, topic: string): ProducerRecord {
  return {
    topic,
    key: event.raw.key,
    value: event.raw.value,
    headers: event.headers,
    timestamp: event.timestamp,
  }
}

export async function* applyOps(
  events: AsyncIterable<AnyEvent>,
  ops: readonly Op[],
  context: TaskContext,
  /** Called when an operator drops the event just taken (filter, branch): it is done. */
  dropped: () => void,
): AsyncGenerator<AnyEvent> {
  next: for await (let event of events) {
    for (const op of ops) {
      switch (op.kind) {
        case 'map':
          event = { ...event, value: await op.fn(event.value, event) }
          break
        case 'filter':
          if (!(await op.fn(event.value, event))) {
            dropped()
            continue next
          }
          break
        case 'forward':
          // Not awaited: the send is an output of this record and holds its offset until acknowledged.
          void context.send([forwarded(event, op.topic.name)]).catch(() => undefined)
          break
        case 'branch': {
          const route = op.routes.find((r) => r.when(event.value, event))
          if (route) {
            void context.send([forwarded(event, route.to.name)]).catch(() => undefined)
            dropped()
            continue next
          }
          break
        }
        case 'groupBy':
        case 'through':
          throw new Error(`${op.kind} ends a segment and cannot run inside one (compiler bug)`)
      }
    }
    yield event
  }
}
