/** The runtime's log levels and the sink that receives its lines (the App's `log` setting). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** What a line is about, for JSON logs: ids, topics, partitions (the message says it in words). */
export type LogFields = Record<string, unknown>

export type LogSink = (level: LogLevel, message: string, fields?: LogFields) => void
