/** kafka:// Fetch response parsing (v13-17): the fields platformatic reads, records left as bytes, errors returned. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { fetchV17, Reader, Writer } from '@platformatic/kafka'
import { responseIn } from '../../../../src/transport/kafka/errors.js'
import { parseFetchResponse, type FetchResult } from '../../../../src/transport/kafka/wire/fetch.js'
import { values } from './batches.js'

const TOPIC_A = '00112233-4455-6677-8899-aabbccddeeff'
const TOPIC_B = 'ffeeddcc-bbaa-9988-7766-554433221100'

interface Partition {
  partition: number
  errorCode?: number
  aborted?: Array<[bigint, bigint]> | null
  records?: Buffer | null
  /** An unknown tagged field, as a newer broker may add (v15's current leader is one). */
  tagged?: boolean
}

/** A Fetch v17 response body (after the response header), the way a broker writes it. */
function response(errorCode: number, topics: Array<[string, Partition[]]>): Buffer {
  const w = Writer.create().appendInt32(3).appendInt16(errorCode).appendInt32(0)
  w.appendArray(topics, (w, [id, partitions]) => {
    w.appendUUID(id).appendArray(
      partitions,
      (w, p) => {
        w.appendInt32(p.partition)
          .appendInt16(p.errorCode ?? 0)
          .appendInt64(2n ** 40n + 10n)
          .appendInt64(p.partition === 0 ? -1n : 2n ** 40n + 5n)
          .appendInt64(7n)
          .appendArray(p.aborted ?? null, (w, [producerId, firstOffset]) => {
            w.appendInt64(producerId).appendInt64(firstOffset)
          })
          .appendInt32(-1)
        if (p.records) w.appendUnsignedVarInt(p.records.length + 1).append(p.records)
        else w.appendUnsignedVarInt(0)
        // Tagged fields: one field of tag 1 holding 3 bytes, or none.
        if (p.tagged) w.append(Buffer.from([1, 1, 3, 9, 9, 9]))
        else w.appendTaggedFields()
      },
      true,
      false,
    )
  })
  return w.appendTaggedFields().buffer
}

/** Our parser on a reader as the connection hands it over: from `position`, over one or more chunks. */
function parse(chunks: Buffer | Buffer[], position = 0): FetchResult {
  const writer = Writer.create()
  for (const chunk of Array.isArray(chunks) ? chunks : [chunks]) writer.append(chunk)
  const reader = Reader.from(writer)
  reader.position = position
  return parseFetchResponse(1, 1, 17, reader)
}

describe('Fetch response parsing (no broker)', () => {
  const records = Buffer.concat([values(0, 2), values(2, 3)])
  const topics = (tagged: boolean): Array<[string, Partition[]]> => [
    [
      TOPIC_A,
      [
        { partition: 0, records, tagged },
        { partition: 1, aborted: [[2n ** 35n, 4n]], records: values(9, 1) },
      ],
    ],
    [TOPIC_B, [{ partition: 4, errorCode: 6, records: null, tagged }]],
  ]
  const body = response(0, topics(false))

  test('topics, partitions, watermarks and aborted transactions are what platformatic reads, as numbers', () => {
    const ours = parse(body)
    let theirs: fetchV17.FetchResponse
    try {
      theirs = fetchV17.parseResponse(1, 1, 17, Reader.from(body))
    } catch (error) {
      // Platformatic throws on any partition error, carrying the parsed response.
      theirs = responseIn<fetchV17.FetchResponse>(error)!
    }
    assert.equal(ours.errorCode, 0)
    assert.equal(ours.throttleTimeMs, theirs.throttleTimeMs)
    assert.deepEqual(
      ours.responses.map((t) => [t.topicId, t.partitions.map((p) => p.partition)]),
      theirs.responses.map((t) => [t.topicId, t.partitions.map((p) => p.partitionIndex)]),
    )
    const flat = (r: FetchResult) => r.responses.flatMap((t) => t.partitions)
    const theirFlat = theirs.responses.flatMap((t) => t.partitions)
    flat(ours).forEach((p, i) => {
      const q = theirFlat[i]!
      assert.equal(p.errorCode, q.errorCode)
      assert.equal(p.highWatermark, Number(q.highWatermark))
      assert.equal(p.lastStableOffset, Number(q.lastStableOffset))
      assert.equal(p.logStartOffset, Number(q.logStartOffset))
      assert.deepEqual(
        p.abortedTransactions ?? [],
        q.abortedTransactions.map((a) => ({
          producerId: Number(a.producerId),
          firstOffset: Number(a.firstOffset),
        })),
      )
    })
    assert.deepEqual(flat(ours)[0]!.abortedTransactions, undefined)
    assert.equal(flat(ours)[0]!.lastStableOffset, -1)
    assert.equal(flat(ours)[1]!.highWatermark, 2 ** 40 + 10)
  })

  test('the records are the batches as bytes, a view of the response, and absent when the broker sent none', () => {
    const [a, b] = parse(body).responses
    const first = a!.partitions[0]!.records!
    assert.deepEqual(first, records)
    assert.equal(first.buffer, body.buffer)
    assert.deepEqual(a!.partitions[1]!.records, values(9, 1))
    assert.equal(b!.partitions[0]!.records, undefined)
  })

  test('tagged fields a newer broker adds (current leader, node endpoints) are read past', () => {
    // Platformatic's reader cannot: it takes the count of tagged fields for their byte length.
    assert.deepEqual(parse(response(0, topics(true))), parse(body))
  })

  test('a partition error is returned with the partition, not thrown', () => {
    const [, b] = parse(body).responses
    assert.equal(b!.topicId, TOPIC_B)
    assert.equal(b!.partitions[0]!.errorCode, 6)
  })

  test('a top-level error code is returned for the fetcher to treat as a failed request', () => {
    const failed = parse(response(58, []))
    assert.equal(failed.errorCode, 58)
    assert.deepEqual(failed.responses, [])
  })

  test('a response that came in several socket chunks is read whole, from the reader position', () => {
    const framed = Buffer.concat([Buffer.from([0xaa, 0xbb]), body])
    const ours = parse([framed.subarray(0, 40), framed.subarray(40, 41), framed.subarray(41)], 2)
    assert.deepEqual(ours, parse(body))
  })

  test('a truncated response throws a RangeError instead of reading garbage', () => {
    for (const cut of [5, 20, body.length - 1])
      assert.throws(() => parse(body.subarray(0, cut)), RangeError, `cut at byte ${cut}`)
  })
})
