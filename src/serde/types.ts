/** Codecs turn a record's key or value bytes into typed values and back. */

/**
 * A codec for keys or values. `decode` gets null for a null key/value (a tombstone) and may return
 * null; it throws on bytes it cannot read, and the runtime sends that record to the agent's error
 * policy with its coordinates. `name` shows in errors and in `tributary agents`.
 */
export interface Codec<T> {
  readonly name: string
  encode(value: T): Buffer | null
  decode(bytes: Buffer | null): T
}

/** Anything with zod's `parse` (zod, valibot adapters, hand-written guards): throws on invalid input. */
export interface Schema<T> {
  parse(input: unknown): T
}
