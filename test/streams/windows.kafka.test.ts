import { testBroker } from '../helpers/broker.js'
import { windowsBehaviour } from './windows.js'

windowsBehaviour({
  label: `kafka:// (real Apache Kafka at ${testBroker().replace('kafka://', '')})`,
  broker: testBroker,
})
