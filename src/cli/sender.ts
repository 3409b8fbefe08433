/** Sends batches with a bounded number in flight and keeps an exact account of what was delivered. */
import type { Producer, ProducerRecord } from '../transport/types.js'

/**
 * Several batches in flight hide the broker round trip. Per-partition order still holds because the
 * producer is idempotent (Kafka keeps up to 5 in-flight requests per partition in order by sequence
 * number); a non-idempotent producer gets a window of 1.
 *
 * Invariant: accepted = delivered + failed + inFlight. Nothing handed to `send` is dropped unaccounted.
 */
export class BatchSender {
  accepted = 0
  delivered = 0
  failed = 0
  firstError: unknown = undefined
  private readonly inFlight = new Set<Promise<void>>()

  constructor(
    private readonly producer: Producer,
    private readonly maxInFlight: number,
    private readonly onDelivered: (delivered: number) => void = () => {},
  ) {}

  /** Resolves once the batch is in flight (waiting for a free slot), not once it is acknowledged. */
  async send(records: ProducerRecord[]): Promise<void> {
    if (records.length === 0) return
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight)
    this.accepted += records.length
    const sending: Promise<void> = this.producer.send(records).then(
      () => {
        this.delivered += records.length
        this.onDelivered(this.delivered)
      },
      (error: unknown) => {
        this.failed += records.length
        this.firstError ??= error
      },
    )
    const tracked = sending.finally(() => this.inFlight.delete(tracked))
    this.inFlight.add(tracked)
  }

  get pending(): number {
    return this.accepted - this.delivered - this.failed
  }

  /** Waits for every batch in flight to be acknowledged or refused. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight)
  }
}
