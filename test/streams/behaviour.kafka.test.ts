import { testBroker } from '../helpers/broker.js'
import { streamsBehaviour } from './behaviour.js'

streamsBehaviour({
  label: `kafka:// (real Apache Kafka at ${testBroker().replace('kafka://', '')})`,
  broker: testBroker,
})
