/** The runtime's log levels and the sink that receives its lines (the App's `log` setting). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export type LogSink = (level: LogLevel, message: string) => void
