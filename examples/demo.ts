/**
 * The demo: produce and consume through the embedded `memory://` broker, no infrastructure needed.
 * A producer sends taxi-ride events keyed by VendorID to a 6-partition topic; a consumer group of two
 * members shares the partitions, commits what it processed, and a third member joins a third of the way in.
 */
import { openTransport } from '../src/index.js'
import type { ConsumedRecord, Consumer } from '../src/index.js'

const RIDES = Number(process.env.DEMO_RIDES ?? 30_000)
// VendorIDs as in the taxi data; with Kafka's murmur2 these six keys fall on six different partitions.
const VENDORS = ['1', '2', '3', '4', '5', '6']

async function main(): Promise<void> {
  const transport = openTransport('memory://')
  const admin = transport.admin()
  await admin.createTopics([{ topic: 'rides', partitions: 6 }])
  console.log('Created topic rides (6 partitions) on the embedded broker memory://')

  const producer = transport.producer()
  const start = Date.now()
  for (let sent = 0; sent < RIDES; sent += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, RIDES - sent) }, (_, i) => {
      const n = sent + i
      const vendor = VENDORS[n % VENDORS.length]!
      const ride = { ride: n, vendor, total_amount: Math.round((5 + ((n * 7919) % 6000) / 100) * 100) / 100 }
      return { topic: 'rides', key: Buffer.from(vendor), value: Buffer.from(JSON.stringify(ride)) }
    })
    await producer.send(batch)
  }
  console.log(`Produced ${RIDES} rides keyed by VendorID in ${Date.now() - start} ms`)

  const perMember = new Map<string, number>()
  const perVendor = new Map<string, { rides: number; amount: number }>()
  const account = (name: string, records: ConsumedRecord[]): void => {
    perMember.set(name, (perMember.get(name) ?? 0) + records.length)
    for (const record of records) {
      const ride = JSON.parse(record.value!.toString()) as { vendor: string; total_amount: number }
      const v = perVendor.get(ride.vendor) ?? { rides: 0, amount: 0 }
      v.rides += 1
      v.amount += ride.total_amount
      perVendor.set(ride.vendor, v)
    }
  }
  const member = (name: string): { name: string; consumer: Consumer } => ({
    name,
    consumer: transport.consumer({ groupId: 'demo-group', offsetReset: 'earliest', clientId: name }),
  })
  const members = [member('worker-a'), member('worker-b')]
  for (const m of members) await m.consumer.subscribe(['rides'])

  let consumed = 0
  while (consumed < RIDES) {
    if (consumed >= RIDES / 3 && members.length === 2) {
      members.push(member('worker-c'))
      await members[2]!.consumer.subscribe(['rides'])
      console.log('worker-c joined the group a third of the way in: the partitions are rebalanced')
    }
    for (const { name, consumer } of members) {
      const records = await consumer.poll({ timeoutMs: 100, maxRecords: 500 })
      account(name, records)
      consumed += records.length
      const next = new Map<number, number>()
      for (const r of records) next.set(r.partition, r.offset + 1)
      if (next.size)
        await consumer.commit([...next].map(([partition, offset]) => ({ topic: 'rides', partition, offset })))
    }
  }
  const assignment = members.map(
    ({ name, consumer }) =>
      `${name}: [${consumer
        .assignment()
        .map((p) => p.partition)
        .join(', ')}]`,
  )
  console.log(`Consumed ${consumed} rides; final assignment ${assignment.join('  ')}`)
  console.log(`Records per member: ${[...perMember].map(([n, c]) => `${n}=${c}`).join(' ')}`)
  console.log('\nVendorID   rides  total amount')
  for (const [vendor, v] of [...perVendor].sort()) {
    console.log(`${vendor.padEnd(8)} ${String(v.rides).padStart(6)}  ${v.amount.toFixed(2).padStart(12)}`)
  }
  const group = await admin.describeGroup('demo-group')
  console.log(`\nGroup demo-group is ${group.state} with ${group.members.length} members`)
  await transport.close()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
