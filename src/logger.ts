/**
 * Worker logs on pino: human lines (time, level, message) on a terminal, JSON lines (with each line's
 * fields: app, worker, generation, partitions...) otherwise, at a level from --log-level or
 * TRIBUTARY_LOG_LEVEL. `pinoSink` plugs any pino logger into an App's `log` setting.
 */
import type { Writable } from 'node:stream'
import { pino, stdTimeFunctions, type Logger } from 'pino'
import pretty from 'pino-pretty'
import { TributaryError } from './errors.js'
import type { LogSink } from './runtime/log.js'

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LoggerLevel = (typeof LOG_LEVELS)[number]
export type LogFormat = 'human' | 'json'

export function parseLogLevel(text: string, where: string): LoggerLevel {
  const level = text.trim().toLowerCase() as LoggerLevel
  if (!LOG_LEVELS.includes(level))
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `${where} must be one of ${LOG_LEVELS.join(', ')}, got "${text}"`,
    )
  return level
}

export function parseLogFormat(text: string, where: string): LogFormat {
  const format = text.trim().toLowerCase()
  if (format === 'human' || format === 'json') return format
  throw new TributaryError('INVALID_ARGUMENT', `${where} must be human or json, got "${text}"`)
}

export interface LoggerOptions {
  /** @default 'info' */
  level?: LoggerLevel
  /** @default human when `destination` is a terminal, json otherwise */
  format?: LogFormat
  /** @default process.stderr */
  destination?: Writable & { isTTY?: boolean }
}

/** The format a destination gets when none is asked for: human lines on a terminal, JSON otherwise. */
export function logFormatFor(destination: { isTTY?: boolean }, format?: LogFormat): LogFormat {
  return format ?? (destination.isTTY ? 'human' : 'json')
}

/** A logger that writes synchronously, so its lines keep their order with the process's other output. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stderr
  const format = logFormatFor(destination, options.format)
  const level = options.level ?? 'info'
  if (format === 'json')
    return pino(
      {
        level,
        base: { pid: process.pid },
        timestamp: stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      destination,
    )
  const human = pretty({
    destination,
    sync: true,
    colorize: destination.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    // The message says it in words; the fields are for JSON logs.
    hideObject: true,
  })
  return pino({ level }, human)
}

/** An App `log` setting that writes to a pino logger (the fields become the line's JSON fields). */
export function pinoSink(logger: Logger): LogSink {
  return (level, message, fields) => {
    if (fields === undefined) logger[level](message)
    else logger[level](fields, message)
  }
}
