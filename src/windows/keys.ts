/**
 * How a window's state is keyed in its table's store: the record key's bytes, then the window's
 * start and end as 8-byte big-endian integers. A store in key-byte order (LMDB) then keeps each
 * key's windows together, oldest first; the partition of a windowed key is that of the record key
 * (the bytes before the 16-byte suffix), so a windowed table sits on the task of its key.
 */
import { TributaryError } from '../errors.js'
import type { Codec } from '../serde/types.js'
import type { TimeWindow } from './kinds.js'

/** A key in one window. */
export interface Windowed<K> {
  readonly key: K
  readonly window: TimeWindow
}

const SUFFIX = 16

/**
 * The key of the task's own entry in a windowed store, its stream time: no record key, window
 * (-1, -1). It is on no key's partition (recordKeyBytes gives undefined).
 */
export const STREAM_TIME: Windowed<never> = Object.freeze({
  key: undefined as never,
  window: Object.freeze({ start: -1, end: -1 }),
})

const isStreamTime = (bytes: Buffer): boolean =>
  bytes.length === SUFFIX && bytes.readBigInt64BE(0) === -1n && bytes.readBigInt64BE(8) === -1n

/** The bytes of a record key inside a windowed key: what the key's partition is computed from (none for STREAM_TIME). */
export function recordKeyBytes(windowedKey: Buffer): Buffer | undefined {
  if (isStreamTime(windowedKey)) return undefined
  if (windowedKey.length < SUFFIX)
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `a windowed key has at least ${SUFFIX} bytes, got ${windowedKey.length}`,
    )
  return windowedKey.subarray(0, windowedKey.length - SUFFIX)
}

/** Encodes `{ key, window }` as key bytes + start + end; decodes it back. */
export function windowedCodec<K>(keyCodec: Codec<K>): Codec<Windowed<K>> {
  return {
    name: `windowed(${keyCodec.name})`,
    encode(windowed: Windowed<K>): Buffer {
      const key = windowed === STREAM_TIME ? Buffer.alloc(0) : keyCodec.encode(windowed.key)
      if (key === null) throw new TributaryError('INVALID_ARGUMENT', 'a windowed table key cannot be null')
      const bytes = Buffer.allocUnsafe(key.length + SUFFIX)
      key.copy(bytes, 0)
      bytes.writeBigInt64BE(BigInt(windowed.window.start), key.length)
      bytes.writeBigInt64BE(BigInt(windowed.window.end), key.length + 8)
      return bytes
    },
    decode(bytes: Buffer | null): Windowed<K> {
      if (bytes === null) throw new TributaryError('INVALID_ARGUMENT', 'a windowed key cannot be null')
      const part = recordKeyBytes(bytes)
      if (part === undefined) return STREAM_TIME
      const key = keyCodec.decode(part)
      const at = bytes.length - SUFFIX
      return {
        key,
        window: { start: Number(bytes.readBigInt64BE(at)), end: Number(bytes.readBigInt64BE(at + 8)) },
      }
    },
  }
}

/**
 * A window's value as stored: with the time of its latest record for sliding windows (what tells
 * which records a new window takes over from it).
 */
export interface Slot<V> {
  readonly value: V
  readonly latest?: number
}

/** A windowed store's value: a window's slot (tag 0, or tag 2 with its latest record time), or the task's stream time (tag 1). */
export type Stored<V> = Slot<V> | { readonly streamTime: number }

export function storedCodec<V>(valueCodec: Codec<V>): Codec<Stored<V>> {
  return {
    name: valueCodec.name,
    encode(stored: Stored<V>): Buffer {
      if ('streamTime' in stored) {
        const bytes = Buffer.allocUnsafe(9)
        bytes[0] = 1
        bytes.writeBigInt64BE(BigInt(stored.streamTime), 1)
        return bytes
      }
      const value = valueCodec.encode(stored.value)
      if (value === null)
        throw new TributaryError(
          'INVALID_ARGUMENT',
          'a window value encoded to null: give a value or delete the window',
        )
      if (stored.latest === undefined) return Buffer.concat([Buffer.of(0), value])
      const head = Buffer.allocUnsafe(9)
      head[0] = 2
      head.writeBigInt64BE(BigInt(stored.latest), 1)
      return Buffer.concat([head, value])
    },
    decode(bytes: Buffer | null): Stored<V> {
      if (bytes === null || bytes.length === 0)
        throw new TributaryError('INVALID_ARGUMENT', 'a windowed store value is empty')
      switch (bytes[0]) {
        case 0:
          return { value: valueCodec.decode(bytes.subarray(1)) }
        case 1:
          return { streamTime: Number(bytes.readBigInt64BE(1)) }
        case 2:
          return { latest: Number(bytes.readBigInt64BE(1)), value: valueCodec.decode(bytes.subarray(9)) }
        default:
          throw new TributaryError(
            'INVALID_ARGUMENT',
            `a windowed store value starts with tag ${bytes[0]}; 0, 1 or 2 expected (written by a newer version?)`,
          )
      }
    },
  }
}
