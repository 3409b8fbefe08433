/**
 * Varints of the Kafka protocol (the v2 record format and flexible versions, KIP-98 and KIP-482):
 * unsigned LEB128, and zigzag for signed values. Written straight into a Buffer at an offset, on
 * plain numbers: a record's timestamp delta is a varlong, and any JavaScript safe integer (up to
 * 2^53) is encoded exactly, with no BigInt per record and no 32-bit wrap-around.
 */

/** Bytes of the unsigned varint of `n` (0 <= n <= 2^53). */
export function uvarintSize(n: number): number {
  let size = 1
  while (n >= 0x80) {
    n = Math.floor(n / 128)
    size++
  }
  return size
}

/** Zigzag keeps small negative numbers small: 0, -1, 1, -2 become 0, 1, 2, 3. */
export function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1
}

export function varintSize(n: number): number {
  return uvarintSize(zigzag(n))
}

/** Writes `n` as an unsigned varint at `at`; returns the offset after it. */
export function writeUvarint(buffer: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buffer[at++] = (n & 0x7f) | 0x80
    n = n < 0x1_0000_0000 ? n >>> 7 : Math.floor(n / 128)
  }
  buffer[at++] = n
  return at
}

export function writeVarint(buffer: Buffer, at: number, n: number): number {
  return writeUvarint(buffer, at, zigzag(n))
}

/**
 * Reads a Kafka response or a record batch from one contiguous Buffer. Every read checks the
 * bounds: a truncated or corrupt frame throws a RangeError naming the offset, never reads garbage.
 */
export class Cursor {
  readonly buffer: Buffer
  position: number
  readonly end: number

  constructor(buffer: Buffer, position = 0, end = buffer.length) {
    this.buffer = buffer
    this.position = position
    this.end = end
  }

  #need(bytes: number): number {
    const at = this.position
    if (at + bytes > this.end)
      throw new RangeError(`truncated data: ${bytes} bytes wanted at byte ${at} of ${this.end}`)
    this.position = at + bytes
    return at
  }

  int8(): number {
    return this.buffer.readInt8(this.#need(1))
  }

  int16(): number {
    return this.buffer.readInt16BE(this.#need(2))
  }

  int32(): number {
    return this.buffer.readInt32BE(this.#need(4))
  }

  uint32(): number {
    return this.buffer.readUInt32BE(this.#need(4))
  }

  /** An int64 as a number: offsets, timestamps and producer ids stay below 2^53 in practice. */
  int64(): number {
    const at = this.#need(8)
    return this.buffer.readInt32BE(at) * 0x1_0000_0000 + this.buffer.readUInt32BE(at + 4)
  }

  bigint64(): bigint {
    return this.buffer.readBigInt64BE(this.#need(8))
  }

  uvarint(): number {
    const buffer = this.buffer
    let at = this.position
    // Most varints of a record (attributes, deltas, lengths below 64) are one byte.
    if (at < this.end && buffer[at]! < 0x80) {
      this.position = at + 1
      return buffer[at]!
    }
    let result = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      if (at >= this.end) throw new RangeError(`truncated varint at byte ${this.position} of ${this.end}`)
      const byte = buffer[at++]!
      result += (byte & 0x7f) * scale
      if (byte < 0x80) {
        this.position = at
        return result
      }
      scale *= 128
    }
    throw new RangeError(`varint longer than 8 bytes at byte ${this.position}`)
  }

  varint(): number {
    const n = this.uvarint()
    // Un-zigzag without 32-bit operators, so varlongs beyond 2^31 come back exact.
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2
  }

  /** `length` bytes as a view of the buffer (no copy). */
  bytes(length: number): Buffer {
    const at = this.#need(length)
    return this.buffer.subarray(at, at + length)
  }

  /** `length` bytes of UTF-8 as a string (header names). */
  utf8(length: number): string {
    const at = this.#need(length)
    return this.buffer.toString('utf8', at, at + length)
  }

  /** A UUID (topic ids of Fetch v13+) in the 8-4-4-4-12 form platformatic's metadata uses. */
  uuid(): string {
    const hex = this.buffer.toString('hex', this.#need(16), this.position)
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }

  skip(length: number): void {
    this.#need(length)
  }

  /** The tagged fields of a flexible version, which we read past. */
  skipTaggedFields(): void {
    const count = this.uvarint()
    for (let i = 0; i < count; i++) {
      this.uvarint()
      this.skip(this.uvarint())
    }
  }
}
