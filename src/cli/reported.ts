/** Errors a command has logged already (as a JSON log line): the CLI does not print them again. */
const reportedErrors = new WeakSet<object>()

export function markReported(error: object): void {
  reportedErrors.add(error)
}

export function wasReported(error: unknown): boolean {
  return typeof error === 'object' && error !== null && reportedErrors.has(error)
}
