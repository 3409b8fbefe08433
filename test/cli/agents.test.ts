import assert from 'node:assert/strict'
import { App } from '../../src/streams/app.js'
import { writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, test } from 'node:test'
import { loadApp } from '../../src/cli/app-loader.js'
import { describeApp } from '../../src/cli/commands/agents.js'
import { run } from '../../src/cli/main.js'
import { Collector, repo } from './helpers.js'

const taxi = join(repo, 'test/cli/fixtures/taxi.ts')
const twoApps = join(repo, 'test/cli/fixtures/two-apps.ts')

async function cli(...args: string[]) {
  const stdout = new Collector()
  const stderr = new Collector()
  const code = await run(['node', 'tributary', ...args], { stdin: Readable.from([]), stdout, stderr })
  return { code, stdout: stdout.text(), stderr: stderr.text() }
}

/** The rows of the table whose header starts with `title`, split into cells. */
function table(text: string, title: string): string[][] {
  const block = text.split('\n\n').find((b) => b.startsWith(title))
  assert.ok(block, `no table ${title} in:\n${text}`)
  return block
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(/ {2,}/))
}

describe('tributary agents', () => {
  test('it lists every agent with its source topic, operator chain, sinks and error policy', async () => {
    const result = await cli('agents', taxi)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^App "taxi": broker memory:\/\/taxi, errors fail by default\n/)
    assert.deepEqual(table(result.stdout, 'AGENT'), [
      ['big-rides', 'rides', 'filter > agent', 'big-rides', 'fail (app)'],
      ['by-vendor', 'rides', 'filter > map > groupBy(by-vendor) > agent', 'vendor-counts', 'dlq'],
    ])
  })

  test('it lists the declared topics and the internal ones with their partitions and codecs', async () => {
    const result = await cli('agents', taxi)
    assert.deepEqual(table(result.stdout, 'TOPIC'), [
      ['rides', '2', 'string', 'json', 'no'],
      ['big-rides', '1 (app)', 'string', 'json', 'no'],
      ['vendor-counts', '1 (app)', 'string', 'json', 'yes'],
    ])
    assert.deepEqual(table(result.stdout, 'INTERNAL TOPIC'), [
      ['taxi-by-vendor-repartition', 'repartition', '2', 'string', 'json', 'by-vendor'],
      ['taxi-dlq', 'dead letters', '1 (app)', 'raw', 'raw', 'by-vendor'],
      ['taxi-replies', 'replies', '1', 'raw', 'raw', 'agent.ask(), on first use'],
    ])
    assert.deepEqual(table(result.stdout, 'GROUP'), [
      ['taxi', "the agents' partition tasks (commits their offsets)"],
    ])
    // The compiled processors: the groupBy splits by-vendor in two, each reading its own topic.
    assert.deepEqual(table(result.stdout, 'PROCESSOR'), [
      ['big-rides', 'rides'],
      ['by-vendor.by-vendor', 'rides'],
      ['by-vendor', 'taxi-by-vendor-repartition'],
    ])
  })

  test('an app with leader-only timers lists the election topic and group it makes', () => {
    const app = new App({ id: 'elects', web: false })
    app.timer(1000, () => undefined, { onLeader: true })
    const d = describeApp(app)
    assert.deepEqual(
      d.internalTopics.map((t) => [t.name, t.kind]),
      [
        ['elects-__leader', 'leader election'],
        ['elects-replies', 'replies'],
      ],
    )
    assert.deepEqual(
      d.groups.map((g) => g.id),
      ['elects-leader'],
    )
  })

  test('--json prints the same description as one JSON document', async () => {
    const result = await cli('agents', taxi, '--json')
    assert.equal(result.code, 0, result.stderr)
    const parsed = JSON.parse(result.stdout) as ReturnType<typeof describeApp>
    const { app } = await loadApp(taxi)
    assert.deepEqual(parsed, describeApp(app))
    assert.deepEqual(parsed.agents[1]?.chain, ['filter', 'map', 'groupBy(by-vendor)', 'agent'])
  })

  test('a module exporting several apps needs --app, which picks one by its export name', async () => {
    const ambiguous = await cli('agents', twoApps)
    assert.equal(ambiguous.code, 1)
    assert.match(
      ambiguous.stderr,
      /^error: App module ".*two-apps\.ts" exports 2 apps \(orders, payments\): choose one with --app <exportName>\n( +at .*\n)*$/,
    )
    const chosen = await cli('agents', twoApps, '--app', 'payments')
    assert.equal(chosen.code, 0, chosen.stderr)
    assert.match(chosen.stdout, /^App "payments"/)
    assert.deepEqual(table(chosen.stdout, 'AGENT'), [
      ['ledger', 'payments-received', 'agent', '-', 'fail (app)'],
    ])
    const wrong = await cli('agents', taxi, '--app', 'rides')
    assert.equal(wrong.code, 1)
    assert.match(
      wrong.stderr,
      /^error: Export "rides" of ".*taxi\.ts" is not an App \(the apps it exports: app\/default\)/,
    )
  })

  test('a missing module, a module without an App and a module that does not compile fail with exit 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-agents-'))
    writeFileSync(join(dir, 'none.mjs'), 'export const answer = 42\n')
    writeFileSync(join(dir, 'broken.ts'), 'export const = 1\n')
    const cases: Array<[string, RegExp]> = [
      [join(dir, 'absent.ts'), /App module ".*absent\.ts" does not exist/],
      [
        join(dir, 'none.mjs'),
        /App module ".*none\.mjs" exports no App: export one as the default export or as "app" \(its exports: answer\)/,
      ],
      [join(dir, 'broken.ts'), /App module ".*broken\.ts" could not be loaded: .*Expected identifier/s],
    ]
    for (const [module, message] of cases) {
      const result = await cli('agents', module)
      assert.equal(result.code, 1, module)
      assert.match(result.stderr, new RegExp(`^error: ${message.source}`, 's'), module)
      assert.equal(result.stdout, '')
    }
  })
})
