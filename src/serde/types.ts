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
  /**
   * Optional, for codecs whose bytes are UTF-8 text (JSON, strings): the value as that text, which
   * an agent's sink hands to the producer as it is, to be written straight into the record batch
   * (no Buffer in between). Must stand for the same bytes as `encode`.
   */
  encodeText?(this: void, value: T): string | null
}

/** Anything with zod's `parse` (zod, valibot adapters, hand-written guards): throws on invalid input. */
export interface Schema<T> {
  parse(input: unknown): T
}
