import { openTransport } from '../../src/transport/index.js'
import { testBroker } from '../helpers/broker.js'
import { transportContract } from './contract.js'

const broker = testBroker()

transportContract({
  label: `kafka:// (real Apache Kafka at ${broker.replace('kafka://', '')})`,
  open: () => openTransport(broker),
  sessionTimeoutMs: 6_000,
})
