/** Checks of user-given settings, with the clear error every layer gives. */
import { closest, distance } from 'fastest-levenshtein'
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

/**
 * The names of an options type, from an object that lists each once: `satisfies Record<keyof T, true>`
 * makes the compiler refuse a list that misses a name or has one too many.
 */
export const keysOf = <T>(names: Record<keyof T, true>): readonly string[] => Object.keys(names)

/**
 * Refuses a name in `given` that is not in `known` (a typo in a setting is a silent default
 * otherwise), with the nearest known name when one is close.
 */
export function knownKeys(what: string, given: object, known: readonly string[]): void {
  for (const key of Object.keys(given)) {
    if (known.includes(key)) continue
    const near = known.length > 0 ? closest(key, known) : undefined
    const close =
      near !== undefined && distance(key.toLowerCase(), near.toLowerCase()) <= Math.max(2, key.length / 3)
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `${what} "${key}" is not known.${close ? ` Did you mean "${near}"?` : ''} Known: ${known.join(', ')}`,
    )
  }
}
