import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { listTables } from '../../src/cli/commands/tables.js'
import { generateRides } from '../../examples/taxi/data.js'
import { sendRides } from '../../examples/taxi/producer.js'
import { VENDOR_TABLE, buildVendorsApp } from '../../examples/taxi/vendors.js'
import { waitUntil } from '../helpers/wait.js'
import { Collector, runCli } from './helpers.js'

test('tables lists each table with its partitions, their owner, state and size, from a running worker', async () => {
  const id = randomUUID().slice(0, 8)
  const { app, rides, perVendor } = buildVendorsApp({
    broker: `memory://cli-tables-${id}`,
    id: `v-${id}`,
    topic: `rides-${id}`,
    web: { port: 0 },
  })
  await app.start()
  try {
    await sendRides(rides, generateRides({ rows: 50 }), { rate: Infinity })
    await waitUntil('50 rides counted', () => [...perVendor.entries()].reduce((n, [, c]) => n + c, 0) === 50)
    const out = new Collector()
    const err = new Collector()
    const infos = await listTables(app, { url: app.opsUrl! }, out, err)
    assert.equal(err.text(), '')
    assert.equal(infos.length, 1)
    assert.equal(infos[0]!.name, VENDOR_TABLE)
    assert.equal(infos[0]!.changelog, `v-${id}-${VENDOR_TABLE}-changelog`)
    assert.equal(infos[0]!.keys, [...perVendor.entries()].length)
    assert.ok(infos[0]!.partitions!.every((p) => p.owner === app.opsUrl && p.state === 'running'))
    assert.match(
      out.text(),
      new RegExp(`${VENDOR_TABLE} +v-${id}-${VENDOR_TABLE}-changelog +memory:// +string +json +\\d+`),
    )
    const json = new Collector()
    await listTables(app, { url: app.opsUrl!, json: true }, json, err)
    assert.equal((JSON.parse(json.text()) as { reached: boolean }).reached, true)
  } finally {
    await app.stop()
  }
})

test('tables without a worker to ask lists the declared tables and says why owners and sizes are unknown', async () => {
  const run = await runCli(['tables', 'test/cli/fixtures/tables-app.ts', '--url', 'http://127.0.0.1:9'])
  assert.equal(run.code, 0, run.stderr)
  assert.match(
    run.stdout,
    /rides-per-vendor +taxi-vendors-rides-per-vendor-changelog +memory:\/\/ +string +json +\?/,
  )
  assert.match(
    run.stderr,
    /no worker of app "taxi-vendors" answered at http:\/\/127\.0\.0\.1:9: owners and sizes are unknown/,
  )
})
