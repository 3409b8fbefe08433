/**
 * Sends produce requests with our own encoding (wire/batch-encode.ts, wire/produce.ts) over the
 * platformatic client's connections and metadata: records grouped by partition leader, one
 * request per leader, all leaders at once. An idempotent producer's batches carry its producer id,
 * epoch and each partition's next sequence number, which moves on only when the broker has
 * acknowledged the batch: a retry of an unacknowledged batch carries the same sequence, so the
 * broker writes it at most once (KIP-98).
 *
 * A send that fails for some partitions throws an error whose `produced` lists the partitions
 * that were written (delivery.ts retries only the others) and whose `errors` hold one
 * platformatic ProtocolError per refused partition, so errors.ts classifies it as for any call.
 */
import {
  ProtocolError,
  protocolErrors,
  protocolErrorsCodesById,
  type ClusterMetadata,
  type Connection,
  type Producer as PltProducer,
  type Reader,
} from '@platformatic/kafka'
import type { Compression } from '../types.js'
import { encodeBatch, type OutRecord } from './wire/batch-encode.js'
import {
  parseProduceResponse,
  produceRequest,
  PRODUCE_API_KEY,
  PRODUCE_VERSION,
  type PartitionAnswer,
  type TopicBatches,
} from './wire/produce.js'

/** A record with its partition chosen. */
export interface OutMessage extends OutRecord {
  topic: string
  partition: number
}

export interface ProducedOffset {
  topic: string
  partition: number
  /** The base offset of the partition's batch; -1 with acks 0. */
  offset: number
}

export interface Produced {
  offsets: ProducedOffset[]
}

/** The producer id and epoch an idempotent producer stamps on its batches. */
export interface ProducerIdentity {
  producerId: bigint
  producerEpoch: number
}

/** Sequence numbers wrap to 0 after Integer.MAX_VALUE, as in Kafka. */
const SEQUENCE_LIMIT = 2 ** 31

type Indexes = Map<string, Map<number, number[]>>

export class ProduceClient {
  readonly #client: PltProducer
  readonly #acks: number
  readonly #timeoutMs: number
  readonly #compression: Compression
  readonly #sequences = new Map<string, number>()

  constructor(client: PltProducer, acks: number, timeoutMs: number, compression: Compression) {
    this.#client = client
    this.#acks = acks
    this.#timeoutMs = timeoutMs
    this.#compression = compression
  }

  /** A new producer id starts every partition's sequence at 0. */
  resetSequences(): void {
    this.#sequences.clear()
  }

  async send(messages: readonly OutMessage[], identity: ProducerIdentity | undefined): Promise<Produced> {
    const topics = [...new Set(messages.map((m) => m.topic))]
    const metadata = await this.#client.metadata({ topics })
    const byLeader = new Map<number, Indexes>()
    for (let i = 0; i < messages.length; i++) {
      const { topic, partition } = messages[i]!
      const leader = metadata.topics.get(topic)?.partitions[partition]?.leader ?? -1
      let topicsOf = byLeader.get(leader)
      if (!topicsOf) byLeader.set(leader, (topicsOf = new Map<string, Map<number, number[]>>()))
      let partitions = topicsOf.get(topic)
      if (!partitions) topicsOf.set(topic, (partitions = new Map<number, number[]>()))
      let indexes = partitions.get(partition)
      if (!indexes) partitions.set(partition, (indexes = []))
      indexes.push(i)
    }
    const offsets: ProducedOffset[] = []
    const errors: Error[] = []
    await Promise.all(
      [...byLeader].map(async ([leader, indexes]) => {
        try {
          const answers = await this.#sendTo(metadata, leader, messages, indexes, identity)
          const unanswered = new Set<string>()
          for (const [topic, partitions] of indexes)
            for (const partition of partitions.keys()) unanswered.add(`${topic}:${partition}`)
          for (const answer of answers) {
            unanswered.delete(`${answer.topic}:${answer.partition}`)
            if (answer.errorCode === 0) {
              offsets.push({ topic: answer.topic, partition: answer.partition, offset: answer.baseOffset })
              this.#acknowledged(answer.topic, answer.partition, indexes, identity)
            } else {
              const refused = refusal(answer)
              // Platformatic marks the codes after which the leaders we know may be wrong.
              if ((refused as { hasStaleMetadata?: boolean }).hasStaleMetadata) this.#client.clearMetadata()
              errors.push(refused)
            }
          }
          // A partition the broker said nothing of was not acknowledged: never report it written.
          for (const where of unanswered)
            errors.push(new Error(`the broker's produce response said nothing of ${where}`))
        } catch (error) {
          // A connection that failed may mean the leader moved or the broker is restarting.
          this.#client.clearMetadata()
          errors.push(error instanceof Error ? error : new Error(String(error)))
        }
      }),
    )
    if (errors.length > 0) {
      const failure = new Error(errors[0]!.message) as Error & { errors: Error[]; produced: Produced }
      failure.errors = errors
      failure.produced = { offsets }
      throw failure
    }
    return { offsets }
  }

  #acknowledged(
    topic: string,
    partition: number,
    indexes: Indexes,
    identity: ProducerIdentity | undefined,
  ): void {
    if (identity === undefined) return
    const count = indexes.get(topic)?.get(partition)?.length ?? 0
    const key = `${topic}:${partition}`
    this.#sequences.set(key, ((this.#sequences.get(key) ?? 0) + count) % SEQUENCE_LIMIT)
  }

  async #sendTo(
    metadata: ClusterMetadata,
    leader: number,
    messages: readonly OutMessage[],
    indexes: Indexes,
    identity: ProducerIdentity | undefined,
  ): Promise<PartitionAnswer[]> {
    const broker = metadata.brokers.get(leader)
    if (broker === undefined) {
      // No leader right now (an election is under way): LEADER_NOT_AVAILABLE for each partition,
      // retried after a metadata refresh.
      return [...indexes].flatMap(([topic, partitions]) =>
        [...partitions.keys()].map((partition) => ({
          topic,
          partition,
          errorCode: 5,
          baseOffset: -1,
          message: null,
        })),
      )
    }
    const topics: TopicBatches[] = []
    for (const [topic, partitions] of indexes) {
      const batches: TopicBatches = { topic, partitions: [] }
      for (const [partition, list] of partitions) {
        const producer =
          identity === undefined
            ? undefined
            : {
                producerId: identity.producerId,
                producerEpoch: identity.producerEpoch,
                baseSequence: this.#sequences.get(`${topic}:${partition}`) ?? 0,
                transactional: false,
              }
        batches.partitions.push({
          partition,
          batch: encodeBatch(messages, list, this.#compression, producer),
        })
      }
      topics.push(batches)
    }
    const connection = await this.#client.connections.get(broker)
    const request = produceRequest(undefined, this.#acks, this.#timeoutMs, topics)
    if (this.#acks === 0) {
      await send<boolean>(
        connection,
        () => request,
        () => true,
      )
      return topics.flatMap(({ topic, partitions }) =>
        partitions.map(({ partition }) => ({
          topic,
          partition,
          errorCode: 0,
          baseOffset: -1,
          message: null,
        })),
      )
    }
    return send(connection, () => request, parseProduceResponse)
  }
}

function send<T>(
  connection: Connection,
  request: () => ReturnType<typeof produceRequest>,
  parse: (correlationId: number, apiKey: number, apiVersion: number, reader: Reader) => T,
): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    connection.send(PRODUCE_API_KEY, PRODUCE_VERSION, request, parse, true, true, (error, answer) =>
      error ? reject(error) : resolve(answer as T),
    ),
  )
}

/**
 * A refused partition as the error platformatic would raise, so errors.ts maps it as usual; its
 * text names the topic and partition (a send may span many) and keeps the broker's own words.
 */
function refusal(answer: PartitionAnswer): Error {
  const where = `topic "${answer.topic}" partition ${answer.partition}`
  const id = protocolErrorsCodesById[answer.errorCode]
  if (id === undefined) {
    return new Error(`the broker refused the batch for ${where} with error code ${answer.errorCode}`)
  }
  const text = answer.message ?? protocolErrors[id]?.message ?? id
  return new ProtocolError(answer.errorCode, `${text.replace(/\.$/, '')}, for ${where}`, {
    topic: answer.topic,
    partition: answer.partition,
  })
}
