// Tributary: stream processing for Apache Kafka in TypeScript. The public API, and nothing else.

// Errors
export { TributaryError, coordinates } from './errors.js'
export type { ErrorCode, ErrorDetails } from './errors.js'

// Transport
export { openTransport } from './transport/index.js'
export { murmur2, partitionForKey } from './transport/partitioner.js'
export type * from './transport/types.js'

// Codecs
export { raw, string, json, nullable, codec } from './serde/codecs.js'
export type { Codec, Schema } from './serde/types.js'

// Streams: apps, topics, agents
export { App } from './streams/app.js'
export type { AppSettings, ResolvedSettings } from './streams/settings.js'
export { Topic } from './streams/topic.js'
export type { TopicOptions } from './streams/topic.js'
export { Stream } from './streams/stream.js'
export type { GroupByOptions, Op } from './streams/stream.js'
export { Agent } from './streams/agent.js'
export type { AgentBody, AgentOptions, Sink } from './streams/agent.js'
export { AgentStream } from './streams/agent-stream.js'
export type { ErrorPolicy, Event, OutgoingRecord } from './streams/types.js'
export type { ProcessorOptions, StreamProcessor, StreamProcessorContext } from './streams/processor.js'
export { DLQ_HEADERS, dlqTopic } from './runtime/output/dead-letter.js'

// Tables and their stores
export { Table } from './streams/table.js'
export type { TableOptions, TableReader } from './streams/table.js'
export { GlobalTable } from './streams/global-table.js'
export type { GlobalSend, GlobalTableOptions } from './streams/global-table.js'

// Windows on event time
export { WindowedTable } from './streams/windowed-table.js'
export type { WindowedTableOptions, WindowValue } from './streams/windowed-table.js'
export { hopping, session, sliding, tumbling } from './windows/kinds.js'
export type {
  HoppingWindows,
  SessionWindows,
  SlidingWindows,
  TimeWindow,
  TumblingWindows,
  WindowOptions,
  Windows,
} from './windows/kinds.js'
export type { ClosedWindow } from './windows/aggregator.js'
export type { TimeSource } from './windows/time.js'
export type { KeyValue } from './state/types.js'

// Timers, leadership and time
export { Timers } from './runtime/timers/timers.js'
export type {
  CronOptions,
  TimerCallback,
  TimerContext,
  TimerHandle,
  TimerOptions,
} from './runtime/timers/timers.js'
export type { TimerStats, TimersOptions } from './runtime/timers/timers.js'
export { LeaderElector } from './runtime/leader/leader.js'
export type { LeaderElectorOptions, LeaderStats, LeadershipChange } from './runtime/leader/leader.js'
export type { Worker } from './runtime/worker.js'
export { ManualClock, systemClock } from './runtime/clock.js'
export type { Clock } from './runtime/clock.js'

// Ops server
export { startOpsServer } from './web/server.js'
export type {
  AgentStats,
  Health,
  OpsProvider,
  OpsServer,
  OpsServerOptions,
  PartitionStats,
  RestoreStats,
  StoreStats,
  StandbyStats,
  StandbyStoreStats,
  WindowStoreStats,
  TableAnswer,
  TableQueries,
  TaskStats,
  TimerStats as OpsTimerStats,
  WorkerStats,
} from './web/types.js'
export { CORRELATION_ID, REPLY_TO, replyTopic } from './streams/replies.js'

// Logs: pino loggers for an App's `log` setting (the worker command uses the same).
export { LOG_LEVELS, createLogger, pinoSink } from './logger.js'
export type { LogFormat, LoggerLevel, LoggerOptions } from './logger.js'
export type { LogFields, LogLevel, LogSink } from './runtime/log.js'
