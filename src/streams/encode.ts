/**
 * Encoding with a codec where an error must say what was being encoded: the operator or topic, the
 * codec, and the codec's own reason (expected and received type). The runner adds the agent and the
 * record's coordinates.
 */
import { TributaryError } from '../errors.js'
import type { Codec } from '../serde/types.js'

export function encodeFailure(
  codec: { readonly name: string },
  what: string,
  error: unknown,
): TributaryError {
  const reason = error instanceof Error ? error.message : String(error)
  return new TributaryError(
    'INVALID_ARGUMENT',
    `${what} could not be encoded with codec ${codec.name}: ${reason}`,
    {
      cause: error,
    },
  )
}

/** `codec.encode(value)`, its failure named by `what` (e.g. `the value for topic "rides"`). */
export function encodeWith<T>(codec: Codec<T>, value: T, what: string): Buffer | null {
  try {
    return codec.encode(value)
  } catch (error) {
    throw encodeFailure(codec, what, error)
  }
}

/** The encoder of an output: the codec's text form where it has one (written as UTF-8), named failures. */
export function outputEncoder(
  codec: Codec<unknown>,
  what: string,
): (value: unknown) => Buffer | string | null {
  const text = codec.encodeText
  const encode = text ?? ((value: unknown) => codec.encode(value))
  return (value) => {
    try {
      return encode(value)
    } catch (error) {
      throw encodeFailure(codec, what, error)
    }
  }
}
