/**
 * Runs a record-at-a-time processor on a task: init, then each record in fetch order (decode,
 * transform, process), with due punctuations run between records, then close. Synchronous while
 * the processor is (the common case for stateful operators on a synchronous store), so a record
 * costs no promise here.
 */
import {
  DROPPED,
  type AnyEvent,
  type NodeSpec,
  type Outputs,
  type Processor,
  type ProcessorContext,
  type Transformed,
} from '../types.js'
import { Runner } from './runner.js'
import { MAX_OUTPUTS_IN_FLIGHT } from './limits.js'
import type { TrackedEntry } from './tracker.js'

export class NodeRunner extends Runner {
  declare readonly spec: NodeSpec
  #current: TrackedEntry | undefined
  #since: number | undefined

  protected punctuationDue(): void {
    this.queue.wakeAll()
  }

  heldOnClock(): number {
    return 0
  }

  busySince(): number | undefined {
    return this.#since
  }

  #forward(records: Outputs): void {
    const entry = this.#current
    // Outside a record (init), an output holds the task's commits like a punctuation's.
    if (entry) this.task.produce(records, this, entry)
    else {
      const cap = this.task.openCap()
      this.task.produceCapped(records, this, cap)
      this.task.closeCap(cap)
    }
  }

  protected async run(): Promise<void> {
    const { task, queue, spec } = this
    const clock = task.host.clock
    const context: ProcessorContext = this.createContext(
      (records) => this.#forward(records),
      () => this.#current?.record,
    )
    let processor: Processor
    try {
      processor = spec.create()
      await processor.init?.(context)
    } catch (error) {
      task.fail(
        new Error(`${this.where()}: the processor failed to start: ${String(error)}`, { cause: error }),
      )
      return
    }
    try {
      for (;;) {
        if (this.punctuator.pending) await this.runPunctuations()
        if (task.outputsInFlight >= MAX_OUTPUTS_IN_FLIGHT) await task.outputsBelow(MAX_OUTPUTS_IN_FLIGHT / 2)
        const entry = queue.take()
        if (entry === undefined) {
          if (queue.finished) break
          await queue.wait()
          continue
        }
        const record = entry.record
        task.observe(record.timestamp)
        this.#current = entry
        this.#since = clock.now()
        let event: AnyEvent
        try {
          event = spec.decode(record)
        } catch (error) {
          this.#current = undefined
          this.#since = undefined
          await this.reject([entry], error, 'could not be decoded')
          if (task.failure) break
          continue
        }
        try {
          let result: Transformed | Promise<Transformed> = spec.transform
            ? spec.transform(event, context)
            : event
          if (result instanceof Promise) result = await result
          if (result !== DROPPED) {
            this.handed = result
            const done = processor.process(result, context)
            if (done instanceof Promise) await done
          }
          this.#current = undefined
          this.#since = undefined
          this.tracker.release(entry)
          task.host.onProgress(spec.name, 'in')
        } catch (error) {
          this.#current = undefined
          this.#since = undefined
          await this.reject([entry], error, 'failed')
        }
        if (task.failure) break
      }
    } finally {
      this.punctuator.cancelAll()
      try {
        await processor.close?.()
      } catch (error) {
        task.host.log('warn', `${this.where()}: close failed: ${String(error)}`)
      }
    }
  }
}
