/**
 * The README as a newcomer uses it: every TypeScript snippet runs to completion as written, and every
 * example answers --help. Each `ts` block starts with a `// <file>.ts` comment naming the file it is;
 * the blocks are written to one directory of this checkout (where `tributary-streams` resolves to
 * src/ through tsconfig paths), then each runs: `*.test.ts` under node --test, the others with node.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { AGENT_OPTIONS } from '../src/streams/agent.js'
import { resolveSettings, SETTINGS } from '../src/streams/settings.js'
import { GLOBAL_TABLE_OPTIONS } from '../src/streams/global-table.js'
import { TABLE_OPTIONS } from '../src/streams/table.js'
import { TOPIC_OPTIONS } from '../src/streams/topic.js'
import { after, describe, test } from 'node:test'
import { testBroker } from './helpers/broker.js'
import { repo } from './cli/helpers.js'

/** The README's development broker address, which the snippets name; the test broker stands in. */
const README_BROKER = 'kafka://127.0.0.1:19092'

interface Snippet {
  file: string
  code: string
  line: number
}

function snippets(markdown: string): Snippet[] {
  const found: Snippet[] = []
  const fence = /^```ts\n([\s\S]*?)^```$/gm
  for (let match = fence.exec(markdown); match; match = fence.exec(markdown)) {
    const code = match[1]!
    const line = markdown.slice(0, match.index).split('\n').length
    const file = /^\/\/ ([\w.-]+\.ts)\b/.exec(code)?.[1]
    assert.ok(file, `README.md:${line}: a ts snippet must start with a "// <file>.ts" comment`)
    found.push({ file, code, line })
  }
  return found
}

interface Run {
  code: number | null
  output: string
}

/** Runs node with `args` in `cwd`; kills it and fails when it has not ended within `ms`. */
function node(args: string[], cwd: string, ms: number): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.NODE_TEST_CONTEXT
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd, env })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`node ${args.join(' ')} did not end within ${ms} ms (it hangs); output:\n${output}`))
    }, ms)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

describe('the README', () => {
  const dir = join(repo, '.snippets', randomUUID().slice(0, 8))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const all = snippets(readFileSync(join(repo, 'README.md'), 'utf8'))

  test('has its TypeScript snippets, each naming its file once', () => {
    assert.ok(all.length >= 3, `found ${all.length} snippets`)
    assert.equal(new Set(all.map((s) => s.file)).size, all.length, all.map((s) => s.file).join(', '))
  })

  for (const snippet of all) {
    test(`snippet ${snippet.file} (README.md:${snippet.line}) runs to completion`, async () => {
      mkdirSync(dir, { recursive: true })
      for (const s of all) writeFileSync(join(dir, s.file), s.code.replaceAll(README_BROKER, testBroker()))
      const args = snippet.file.endsWith('.test.ts') ? ['--test', snippet.file] : [snippet.file]
      const run = await node(args, dir, 60_000)
      assert.equal(run.code, 0, `README.md:${snippet.line} ${snippet.file} failed:\n${run.output}`)
    })
  }
})

describe('the examples', () => {
  for (const example of [
    'examples/demo.ts',
    ...['data', 'producer', 'printer', 'branch', 'vendors'].map((n) => `examples/taxi/${n}.ts`),
  ]) {
    test(`${example} --help prints its usage and exits`, async () => {
      const run = await node([example, '--help'], repo, 30_000)
      assert.equal(run.code, 0, run.output)
      assert.match(run.output, /^Usage: /)
      const taxi = example.includes('taxi/') && !example.endsWith('data.ts')
      if (taxi) assert.match(run.output, /--broker <url> +kafka:\/\/host:port, or memory:\/\/ \(the default/)
    })
  }

  test('an unknown option is named, with the usage, and a failing exit code', async () => {
    const run = await node(['examples/taxi/printer.ts', '--brokr', 'x'], repo, 30_000)
    assert.equal(run.code, 2)
    assert.match(run.output, /Unknown option '--brokr'[\s\S]*Usage: /)
  })
})

/** The first column (without backticks) and the second of each row of the table under `heading`. */
function tableUnder(markdown: string, heading: string): Map<string, string> {
  const at = markdown.indexOf(`\n## ${heading}`)
  assert.ok(at >= 0, `no section "${heading}"`)
  const rows = new Map<string, string>()
  for (const line of markdown.slice(at).split('\n').slice(2)) {
    if (line.startsWith('## ')) break
    const cells = line.split('|').map((c) => c.trim())
    if (cells.length < 4 || cells[1] === 'setting' || cells[1] === 'option' || /^-+$/.test(cells[1]!))
      continue
    rows.set(cells[1]!.replaceAll('`', ''), cells[2]!)
  }
  return rows
}

describe('docs/settings.md', () => {
  const page = readFileSync(join(repo, 'docs', 'settings.md'), 'utf8')

  test('lists every App setting, topic option and agent option, and no other', () => {
    assert.deepEqual([...tableUnder(page, 'App settings').keys()].sort(), [...SETTINGS].sort())
    assert.deepEqual([...tableUnder(page, 'Topic options').keys()].sort(), [...TOPIC_OPTIONS].sort())
    assert.deepEqual([...tableUnder(page, 'Agent options').keys()].sort(), [...AGENT_OPTIONS].sort())
    assert.deepEqual([...tableUnder(page, 'Table options').keys()].sort(), [...TABLE_OPTIONS].sort())
    assert.deepEqual(
      [...tableUnder(page, 'Global table options').keys()].sort(),
      [...GLOBAL_TABLE_OPTIONS].sort(),
    )
  })

  test('gives the defaults the code applies', () => {
    const resolved = resolveSettings({ id: 'docs' }) as unknown as Record<string, unknown>
    const table = tableUnder(page, 'App settings')
    for (const [name, value] of Object.entries(resolved)) {
      if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string') continue
      if (name === 'id' || name === 'stateDir') continue
      assert.equal(table.get(name), `\`${String(value)}\``, `the default of ${name}`)
    }
    assert.equal(table.get('web'), "`{ port: 6066, host: '127.0.0.1' }`")
  })
})

describe("the repository's Markdown", () => {
  const files = ['README.md', 'bench/README.md', 'docs/settings.md']
  for (const file of files) {
    test(`${file}: every relative link resolves to a file inside the repository`, () => {
      const text = readFileSync(join(repo, file), 'utf8')
      const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!)
      for (const link of links) {
        if (/^(https?:|mailto:|#)/.test(link)) continue
        const target = resolve(dirname(join(repo, file)), link.split('#')[0]!)
        assert.ok(!relative(repo, target).startsWith('..'), `${file}: ${link} points outside the repository`)
        assert.ok(existsSync(target), `${file}: ${link} does not exist`)
      }
      assert.doesNotMatch(text, /\.\.\/shared/, `${file} names ../shared, which is not part of a clone`)
    })
  }
})
