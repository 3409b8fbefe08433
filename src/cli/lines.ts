/** Splits byte streams into lines without decoding them, so non-UTF-8 input reaches Kafka unchanged. */
import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'

const NEWLINE = 0x0a
const RETURN = 0x0d

/**
 * Yields the lines of each chunk as one array (a chunk is what the source had ready, which lets the
 * caller send a batch as soon as input pauses instead of waiting for a full one). "\r\n" and "\n" both
 * end a line; a last line without a newline is still a line; an empty input has no lines.
 */
export async function* chunkedLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer[]> {
  let carry: Buffer | undefined
  for await (const piece of input) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece
    const data = carry === undefined ? chunk : Buffer.concat([carry, chunk])
    const lines: Buffer[] = []
    let start = 0
    for (let end = data.indexOf(NEWLINE); end >= 0; end = data.indexOf(NEWLINE, start)) {
      lines.push(trimReturn(data.subarray(start, end)))
      start = end + 1
    }
    carry = start < data.length ? data.subarray(start) : undefined
    if (lines.length > 0) yield lines
  }
  if (carry !== undefined) yield [trimReturn(carry)]
}

function trimReturn(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === RETURN ? line.subarray(0, line.length - 1) : line
}

/** Counts the lines of a file the way `chunkedLines` would, for the progress bar's total. */
export async function countLines(path: string): Promise<number> {
  let count = 0
  let last = NEWLINE
  for await (const chunk of createReadStream(path) as Readable & AsyncIterable<Buffer>) {
    for (let at = chunk.indexOf(NEWLINE); at >= 0; at = chunk.indexOf(NEWLINE, at + 1)) count++
    if (chunk.length > 0) last = chunk[chunk.length - 1] ?? NEWLINE
  }
  return last === NEWLINE ? count : count + 1
}
