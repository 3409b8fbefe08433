/**
 * kafka:// through broker outages, on a private broker: stopped gracefully for 60 s, then
 * SIGKILLed and restarted. A producer and a group consumer must pause, not die: every
 * acknowledged record is consumed (at-least-once), poll reports each long outage once with
 * canRetry: true, and both resume soon after the broker answers again.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { TributaryError } from '../../../src/errors.js'
import { openTransport } from '../../../src/transport/index.js'
import type { TopicPartition, Transport } from '../../../src/transport/types.js'
import { PrivateBroker } from '../../helpers/private-broker.js'

const OUTAGE_MS = 60_000
/** How soon after the broker answers both clients must be moving again. */
const RESUME_MS = 30_000

async function until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test(
  'a producer and a group consumer ride out a 60 s graceful stop and a SIGKILL of their broker, losing nothing',
  { timeout: 290_000 },
  async (t) => {
    const broker = new PrivateBroker()
    let transport: Transport | undefined
    // Two flags: the consumer must keep polling after the producer stopped, until it caught up.
    let stopping = false
    let stopConsuming = false
    const acked: string[] = []
    const consumed = new Set<string>()
    const sendFailures: unknown[] = []
    const fatal: unknown[] = []
    const reports: TributaryError[] = []
    const lost: TopicPartition[][] = []
    let producing: Promise<void> | undefined
    let consuming: Promise<void> | undefined
    try {
      const launched = Date.now()
      await broker.start()
      // How long this machine takes to bring a broker up (the JVM, the log): the restart after the
      // graceful stop is launched early by part of that (a restart needs no format), so the broker
      // answers again a little over 60 s after it stopped.
      const startupMs = Date.now() - launched
      transport = openTransport(broker.url)
      const topic = `restart-${randomUUID()}`
      await transport.admin().createTopics([{ topic, partitions: 3 }])
      const producer = transport.producer()
      const consumer = transport.consumer({
        groupId: `g-${randomUUID()}`,
        offsetReset: 'earliest',
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 500,
      })
      await consumer.subscribe([topic], { onLost: (tps) => void lost.push(tps) })

      producing = (async () => {
        for (let n = 0; !stopping; n++) {
          const values = Array.from({ length: 5 }, (_, i) => `${n}-${i}`)
          try {
            await producer.send(values.map((v) => ({ topic, key: Buffer.from(v), value: Buffer.from(v) })))
            acked.push(...values)
          } catch (error) {
            sendFailures.push(error)
          }
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      })()
      consuming = (async () => {
        let committedAt = Date.now()
        const next = new Map<string, TopicPartition & { offset: number }>()
        while (!stopConsuming) {
          try {
            for (const r of await consumer.poll({ timeoutMs: 200 })) {
              consumed.add(r.value!.toString())
              next.set(`${r.partition}`, { topic, partition: r.partition, offset: r.offset + 1 })
            }
            if (Date.now() - committedAt > 1_000) {
              committedAt = Date.now()
              const owned = [...next.values()].filter((o) =>
                consumer.assignment().some((tp) => tp.partition === o.partition),
              )
              await consumer.commit(owned).catch(() => undefined)
            }
          } catch (error) {
            if (error instanceof TributaryError && error.canRetry) reports.push(error)
            else fatal.push(error)
          }
        }
      })()
      const flowing = (): boolean => {
        const last = acked.at(-1)
        return last !== undefined && consumed.has(last)
      }
      await until('records flow', () => acked.length >= 100 && flowing(), 60_000)

      // 1. A graceful stop for a minute.
      await broker.stop()
      const stoppedAt = Date.now()
      const ackedBefore = acked.length
      await until('the outage is reported once by poll', () => reports.length > 0, OUTAGE_MS)
      // The outage itself is the scenario (not a wait for something): a minute without a broker.
      const launchAt = stoppedAt + OUTAGE_MS - Math.min(startupMs * 0.6, OUTAGE_MS / 2)
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, launchAt - Date.now())))
      await broker.start()
      t.diagnostic(`the broker was down ${Math.round((Date.now() - stoppedAt) / 1000)} s`)
      assert.equal(reports.length, 1, 'reported once per outage, not per poll')
      await until(
        'both clients resume after the graceful restart',
        () => acked.length > ackedBefore + 10 && flowing(),
        RESUME_MS,
      )

      // 2. A crash, restarted at once.
      await broker.kill()
      const ackedBeforeKill = acked.length
      await broker.start()
      await until(
        'both clients resume after the SIGKILL',
        () => acked.length > ackedBeforeKill + 10 && flowing(),
        RESUME_MS,
      )

      stopping = true
      await producing
      await until('every acknowledged record is consumed', () => acked.every((v) => consumed.has(v)), 30_000)
      stopConsuming = true
      await consuming
      assert.deepEqual(sendFailures, [], 'no send failed: they were retried within the delivery timeout')
      assert.deepEqual(fatal, [], 'poll threw nothing but outage reports')
      assert.ok(reports.length <= 2, `${reports.length} outage reports for two outages`)
      for (const r of reports) assert.ok(r.canRetry && /retrying/.test(r.message), r.message)
    } finally {
      stopping = true
      stopConsuming = true
      await Promise.allSettled([producing, consuming])
      await transport?.close().catch(() => undefined)
      await broker.remove()
    }
  },
)
