/** kafka:// over SASL_PLAINTEXT: SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN, right and wrong credentials. */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import { openTransport } from '../../../src/transport/index.js'
import type { SaslMechanism } from '../../../src/transport/types.js'
import { SASL_ADDRESS, SASL_PASSWORD, SASL_USER, pollUntil, rejectsWith, uniqueTopic } from './helpers.js'

const MECHANISMS: SaslMechanism[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN']

function url(mechanism: SaslMechanism, password: string): string {
  return `kafka://${encodeURIComponent(SASL_USER)}:${encodeURIComponent(password)}@${SASL_ADDRESS}?sasl=${mechanism}`
}

describe(
  'kafka:// over SASL',
  { skip: SASL_ADDRESS === undefined && 'no SASL listener given (TRIBUTARY_TEST_SASL_BROKER)' },
  () => {
    for (const mechanism of MECHANISMS) {
      test(`the right ${mechanism} credentials produce, consume in a group and commit`, async () => {
        const transport = openTransport(url(mechanism, SASL_PASSWORD))
        try {
          const topic = uniqueTopic('sasl')
          await transport.admin().createTopics([{ topic }])
          await transport.producer().send([{ topic, key: Buffer.from('k'), value: Buffer.from(mechanism) }])
          const consumer = transport.consumer({
            groupId: `g-${randomUUID()}`,
            offsetReset: 'earliest',
            sessionTimeoutMs: 6_000,
            heartbeatIntervalMs: 500,
          })
          await consumer.subscribe([topic])
          const [record] = await pollUntil(consumer, (all) => all.length >= 1)
          assert.equal(record?.value?.toString(), mechanism)
          await consumer.commit([{ topic, partition: 0, offset: 1 }])
          assert.deepEqual(await consumer.committed([{ topic, partition: 0 }]), [
            { topic, partition: 0, offset: 1 },
          ])
          await consumer.close()
          await transport.admin().deleteTopics([topic])
        } finally {
          await transport.close()
        }
      })

      test(`a wrong ${mechanism} password is AUTHENTICATION_FAILED naming the user, mechanism and address, quickly`, async () => {
        const transport = openTransport(url(mechanism, 'not-the-password'))
        const started = Date.now()
        try {
          const address = new RegExp(SASL_ADDRESS!.replaceAll('.', '\\.'))
          const error = await rejectsWith(
            transport.admin().listTopics(),
            'AUTHENTICATION_FAILED',
            new RegExp(SASL_USER),
            new RegExp(mechanism),
            address,
          )
          assert.equal(error.broker, SASL_ADDRESS)
          await rejectsWith(
            transport.producer().send([{ topic: 'any', value: null }]),
            'AUTHENTICATION_FAILED',
          )
          assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`)
        } finally {
          await transport.close()
        }
      })
    }

    test('SASL against a listener without it is not mistaken for success', async () => {
      const plaintext = SASL_ADDRESS!.replace(/:(\d+)$/, (_, port: string) => `:${Number(port) - 1}`)
      const transport = openTransport(`kafka://${SASL_USER}:${SASL_PASSWORD}@${plaintext}?sasl=PLAIN`)
      try {
        await assert.rejects(transport.admin().listTopics(), (error: Error & { code?: string }) => {
          assert.ok(['AUTHENTICATION_FAILED', 'BROKER_UNREACHABLE'].includes(error.code ?? ''), error.message)
          return true
        })
      } finally {
        await transport.close()
      }
    })
  },
)
