/**
 * npx and `npm run` start a command under `sh -c` and do not pass SIGTERM on to it: stopping them
 * would orphan a worker that goes on consuming. A command they started watches its parent instead,
 * and is told when the parent is gone, so it stops as it would at SIGTERM.
 */

/** What started this process, when it was npm: `npx` (npm exec) or `npm run`. */
export function npmLauncher(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.npm_command === 'exec') return 'npx'
  if (env.npm_command === 'run-script' || env.npm_command === 'run' || env.npm_lifecycle_event !== undefined)
    return 'npm run'
  return undefined
}

/**
 * Calls `onGone` once the parent process has exited (this process was handed to another parent),
 * when npm started it; a process started by anything else (a shell, systemd, a container runtime)
 * gets its signals directly and is not watched. Returns a function that stops watching.
 */
export function watchLauncher(
  onGone: (why: string) => void,
  options: { env?: NodeJS.ProcessEnv; intervalMs?: number; parentPid?: () => number } = {},
): () => void {
  const launcher = npmLauncher(options.env)
  if (launcher === undefined) return () => undefined
  const parentPid = options.parentPid ?? (() => process.ppid)
  const parent = parentPid()
  const timer = setInterval(() => {
    if (parentPid() === parent) return
    clearInterval(timer)
    onGone(`${launcher} (pid ${parent}) exited; it does not pass SIGTERM on`)
  }, options.intervalMs ?? 250)
  timer.unref()
  return () => clearInterval(timer)
}
