/** Checks of user-given settings, with the clear error every layer gives. */
import { TributaryError, type ErrorCode } from './errors.js'

/** Throws unless `value` is a whole number >= `min`; `what` names it in the message. */
export function wholeNumber(
  what: string,
  value: number,
  min = 1,
  code: ErrorCode = 'INVALID_ARGUMENT',
): number {
  if (!Number.isInteger(value) || value < min) {
    throw new TributaryError(code, `${what} must be a whole number >= ${min}, got ${value}`)
  }
  return value
}
