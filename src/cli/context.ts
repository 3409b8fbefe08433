/** What a command's commander wiring receives from main: the process streams and the way to run. */
import type { Readable, Writable } from 'node:stream'
import type { Command } from 'commander'
import type { Admin, Transport } from '../transport/types.js'
import type { GlobalOptions } from './broker.js'

export interface CliIo {
  stdin: Readable
  stdout: Writable
  stderr: Writable
}

/** Exit codes: 0 done, 1 failed (message on stderr), 130 interrupted by Ctrl-C (128 + SIGINT), as shells do. */
export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_INTERRUPTED = 130

export interface CliContext {
  io: CliIo
  /**
   * Runs an admin command: connects, runs `work` under the global --timeout (a safety net on top of
   * the transport's own connection timeout), closes. Ctrl-C ends it at once.
   */
  admin(command: Command, work: (admin: Admin) => Promise<void>): Promise<void>
  /**
   * Runs a client command (produce, consume) that handles Ctrl-C itself through `signal`, and returns
   * its exit code.
   */
  client(
    command: Command,
    work: (transport: Transport, global: GlobalOptions, control: ClientControl) => Promise<number>,
    options?: ClientOptions,
  ): Promise<void>
  /**
   * Runs a long-lived command that opens its own connections (the worker: its app connects itself,
   * possibly to an embedded memory:// broker) and stops gracefully at the first Ctrl-C or SIGTERM,
   * through `signal`. Returns its exit code.
   */
  service(
    command: Command,
    work: (global: GlobalOptions, control: ClientControl) => Promise<number>,
  ): Promise<void>
}

export interface ClientOptions {
  /**
   * The broker to use when neither --broker nor TRIBUTARY_BROKER names one (e.g. `send --app` uses
   * the app's own broker setting), instead of the CLI's default.
   */
  broker?: string
}

export interface ClientControl {
  /** Aborted at the first Ctrl-C (and, for a service, SIGTERM): the command stops taking work, finishes what it accepted and reports. */
  signal: AbortSignal
  /** A second Ctrl-C exits at once; the report (if any) tells what was still unsettled at that moment. */
  onForcedExit(report: () => string): void
}
