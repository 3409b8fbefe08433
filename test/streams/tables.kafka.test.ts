import { testBroker } from '../helpers/broker.js'
import { tablesBehaviour } from './tables.js'

tablesBehaviour({
  label: `kafka:// (real Apache Kafka at ${testBroker().replace('kafka://', '')})`,
  broker: testBroker,
})
