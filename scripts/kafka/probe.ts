/** Asks a Kafka broker for cluster metadata; true when it answers in time. */
import { Admin } from '@platformatic/kafka'

export async function probeKafka(address: string, timeoutMs: number): Promise<boolean> {
  const admin = new Admin({
    clientId: 'tributary-probe',
    bootstrapBrokers: [address],
    connectTimeout: timeoutMs,
    timeout: timeoutMs,
    retries: 0,
  })
  let timer: NodeJS.Timeout | undefined
  try {
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs)
    })
    const answer = admin.metadata({ topics: [] }).then(
      () => true,
      () => false,
    )
    return await Promise.race([answer, timeout])
  } finally {
    clearTimeout(timer)
    await admin.close().catch(() => undefined)
  }
}
