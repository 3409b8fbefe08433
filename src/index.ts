// Tributary: stream processing for Apache Kafka in TypeScript. The public API, and nothing else.

// Errors
export { TributaryError, coordinates } from './errors.js'
export type { ErrorCode, ErrorDetails } from './errors.js'

// Transport
export { openTransport } from './transport/index.js'
export { murmur2, partitionForKey } from './transport/partitioner.js'
export type * from './transport/types.js'
