/** Where the integration tests find the real Kafka broker (set by scripts/test.ts, or by hand). */

export function testBroker(): string {
  return process.env.TRIBUTARY_TEST_BROKER ?? 'kafka://127.0.0.1:19092'
}

/** The SASL/SCRAM listener with valid credentials, or undefined when the broker given has none. */
export function testSaslBroker(): string | undefined {
  if (process.env.TRIBUTARY_TEST_SASL_BROKER) return process.env.TRIBUTARY_TEST_SASL_BROKER
  return process.env.TRIBUTARY_TEST_BROKER ? undefined : 'kafka://tributary:tributary-secret@127.0.0.1:19093'
}
