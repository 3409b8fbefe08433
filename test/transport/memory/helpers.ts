/** Shared helpers for the memory:// transport tests: a fresh broker per test, polling until a count. */
import { randomUUID } from 'node:crypto'
import type { ConsumedRecord, Consumer, Transport } from '../../../src/transport/types.js'
import { createMemoryTransport, resetMemoryBroker } from '../../../src/transport/memory/transport.js'

export interface Fixture {
  name: string
  transport: Transport
  /** Another transport on the same broker, as a second process of the same app would open. */
  reopen(): Transport
  close(): Promise<void>
}

/** Opens a transport on a broker of its own, so tests never see each other's topics or groups. */
export function fixture(): Fixture {
  const name = `test-${randomUUID()}`
  const opened: Transport[] = []
  const reopen = (): Transport => {
    const transport = createMemoryTransport(name)
    opened.push(transport)
    return transport
  }
  return {
    name,
    transport: reopen(),
    reopen,
    async close() {
      for (const transport of opened) await transport.close()
      resetMemoryBroker(name)
    },
  }
}

export const text = (value: string): Buffer => Buffer.from(value)
export const values = (records: ConsumedRecord[]): Array<string | null> =>
  records.map((r) => r.value?.toString() ?? null)

/** Polls until `count` records arrived (or fails after `timeoutMs`). */
export async function pollUntil(
  consumer: Consumer,
  count: number,
  timeoutMs = 2000,
): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = []
  const deadline = Date.now() + timeoutMs
  while (out.length < count) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`Only ${out.length} of ${count} records arrived within ${timeoutMs} ms`)
    out.push(...(await consumer.poll({ timeoutMs: Math.min(left, 100) })))
  }
  return out
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
