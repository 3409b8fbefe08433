/**
 * Runs a chain of stateless operators on one event. Synchronous as long as the user functions are
 * (the common case), so a record costs no promise here; an async map or filter switches to the
 * async path for that record only.
 */
import type { Op } from './stream.js'
import type { ProducerRecord } from '../transport/types.js'
import { RecordEvent } from '../runtime/task/event.js'
import { DROPPED, type AnyEvent, type ProcessorContext, type Transformed } from '../runtime/types.js'
import { withoutReplyHeaders } from './replies.js'

type OpResult = Transformed

/** The original bytes of an event, addressed to another topic (forward and branch never re-encode). */
export function forwarded(event: AnyEvent, topic: string): ProducerRecord {
  return {
    topic,
    key: event.raw.key,
    value: event.raw.value,
    // A request's reply headers stay with the request: a copy downstream must not answer it again.
    headers: withoutReplyHeaders(event.headers),
    timestamp: event.timestamp,
  }
}

/** A mapped event: RecordEvent keeps its record; a plain object (tests, custom sources) is copied. */
function withValue(event: AnyEvent, value: unknown): AnyEvent {
  return event instanceof RecordEvent ? event.withValue(value) : { ...event, value }
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

export function applyOps(
  event: AnyEvent,
  ops: readonly Op[],
  context: ProcessorContext,
  from = 0,
): OpResult | Promise<OpResult> {
  // No closure in this function: V8 would allocate their context on every call (every record).
  for (let i = from; i < ops.length; i++) {
    const op = ops[i]!
    switch (op.kind) {
      case 'map': {
        const value = op.fn(event.value, event)
        if (isPromise(value)) return mappedLater(event, value, ops, context, i + 1)
        event = withValue(event, value)
        break
      }
      case 'filter': {
        const keep = op.fn(event.value, event)
        if (isPromise(keep)) return filteredLater(event, keep, ops, context, i + 1)
        if (!keep) return DROPPED
        break
      }
      case 'forward':
        // An output of this record: it holds the record's offset until acknowledged.
        context.forward([forwarded(event, op.topic.name)])
        break
      case 'branch': {
        const route = findRoute(op.routes, event)
        if (route) {
          context.forward([forwarded(event, route.to.name)])
          return DROPPED
        }
        break
      }
      case 'groupBy':
      case 'through':
        throw new Error(`${op.kind} ends a segment and cannot run inside one (compiler bug)`)
    }
  }
  return event
}

type Branch = Extract<Op, { kind: 'branch' }>['routes']

function findRoute(routes: Branch, event: AnyEvent): Branch[number] | undefined {
  for (const route of routes) if (route.when(event.value, event)) return route
  return undefined
}

/** An async map: the rest of the chain runs on its value. */
async function mappedLater(
  event: AnyEvent,
  value: Promise<unknown>,
  ops: readonly Op[],
  context: ProcessorContext,
  next: number,
): Promise<OpResult> {
  return applyOps(withValue(event, await value), ops, context, next)
}

/** An async filter: the rest of the chain runs if it keeps the event. */
async function filteredLater(
  event: AnyEvent,
  keep: Promise<unknown>,
  ops: readonly Op[],
  context: ProcessorContext,
  next: number,
): Promise<OpResult> {
  return (await keep) ? applyOps(event, ops, context, next) : DROPPED
}
