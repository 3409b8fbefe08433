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

/** The bytes of a record key inside a windowed key: what the key's partition is computed from. */
export function recordKeyBytes(windowedKey: Buffer): Buffer {
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
      const key = keyCodec.encode(windowed.key)
      if (key === null) throw new TributaryError('INVALID_ARGUMENT', 'a windowed table key cannot be null')
      const bytes = Buffer.allocUnsafe(key.length + SUFFIX)
      key.copy(bytes, 0)
      bytes.writeBigInt64BE(BigInt(windowed.window.start), key.length)
      bytes.writeBigInt64BE(BigInt(windowed.window.end), key.length + 8)
      return bytes
    },
    decode(bytes: Buffer | null): Windowed<K> {
      if (bytes === null) throw new TributaryError('INVALID_ARGUMENT', 'a windowed key cannot be null')
      const key = keyCodec.decode(recordKeyBytes(bytes))
      const at = bytes.length - SUFFIX
      return {
        key,
        window: { start: Number(bytes.readBigInt64BE(at)), end: Number(bytes.readBigInt64BE(at + 8)) },
      }
    },
  }
}
