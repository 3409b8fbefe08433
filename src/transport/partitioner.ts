/** Kafka's default partitioner for keyed records: murmur2 of the key bytes, as the Java client does. */

const SEED = 0x9747b28c
const M = 0x5bd1e995

/** Kafka's 32-bit murmur2 (the Java client's `Utils.murmur2`), as a signed int. */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = SEED ^ length
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24) | 0
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  switch (length & 3) {
    case 3:
      h ^= data[whole + 2]! << 16
    // falls through
    case 2:
      h ^= data[whole + 1]! << 8
    // falls through
    case 1:
      h ^= data[whole]!
      h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/**
 * The partition of a keyed record: `toPositive(murmur2(key)) % partitions`. Every transport uses
 * this, so a key lands on the same partition on `memory://`, on `kafka://` and from Java clients,
 * which is what co-partitioning and joins rely on.
 */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions
}
