/**
 * The leader election's Kafka objects: the 1-partition topic `<appId>-__leader`, whose partition 0
 * decides who leads, and the claim record a new leader appends to it (its offset is the leader epoch).
 */
import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import { TributaryError } from '../../errors.js'
import type { Consumer, RebalanceListener, Transport } from '../../transport/types.js'

export const leaderTopic = (appId: string): string => `${appId}-__leader`
export const leaderGroup = (appId: string): string => `${appId}-leader`

/** A worker id that stays readable in group listings: host, pid and a random suffix against pid reuse. */
export function defaultWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`
}

const isCode = (error: unknown, code: string): boolean =>
  error instanceof TributaryError && error.code === code

/** Creates the topic unless it exists; workers starting together race here, and that is fine. */
export async function ensureLeaderTopic(
  transport: Transport,
  topic: string,
  replicationFactor: number,
): Promise<void> {
  const admin = transport.admin()
  try {
    const existing = await admin.listTopics()
    if (existing.includes(topic)) return
    await admin.createTopics([{ topic, partitions: 1, replicationFactor }])
  } catch (error) {
    if (!isCode(error, 'TOPIC_EXISTS')) throw error
  } finally {
    await admin.close()
  }
}

/**
 * Subscribes, waiting out a topic that another worker created a moment ago and that this broker's
 * metadata does not show yet (it shows within a second or so).
 */
export async function subscribeLeaderTopic(
  consumer: Consumer,
  topic: string,
  listener: RebalanceListener,
): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      return await consumer.subscribe([topic], listener)
    } catch (error) {
      if (!isCode(error, 'UNKNOWN_TOPIC') || Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}

/** The claim a new leader appends: who, and when (for people reading the topic). */
export function claimRecord(
  topic: string,
  workerId: string,
): { topic: string; partition: number; key: Buffer; value: Buffer } {
  const value = JSON.stringify({ workerId, claimedAt: new Date().toISOString() })
  return { topic, partition: 0, key: Buffer.from(workerId), value: Buffer.from(value) }
}
