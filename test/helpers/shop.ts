/** A small topology several test files share: orders of 10 or more, doubled, to big-orders. */
import { App, json, string } from '../../src/index.js'
import type { AppSettings } from '../../src/index.js'

export interface Order {
  amount: number
}

export function shopApp(settings: Partial<AppSettings> = {}) {
  const app = new App({ id: 'shop', topicPartitions: 3, ...settings })
  const orders = app.topic('orders', { key: string, value: json<Order>() })
  const big = app.topic('big-orders', { key: string, value: json<number>() })
  app.agent(
    'big',
    orders
      .stream()
      .filter((o) => o.amount >= 10)
      .map((o) => o.amount * 2),
    async function* (stream) {
      for await (const event of stream) yield event.value
    },
    { sink: [big] },
  )
  return { app, orders, big }
}
