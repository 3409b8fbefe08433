/**
 * The README as a newcomer uses it: every TypeScript snippet runs to completion as written, and every
 * example answers --help. Each `ts` block starts with a `// <file>.ts` comment naming the file it is;
 * the blocks are written to one directory of this checkout (where `tributary-streams` resolves to
 * src/ through tsconfig paths), then each runs: `*.test.ts` under node --test, the others with node.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
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
    ...['data', 'producer', 'printer', 'branch'].map((n) => `examples/taxi/${n}.ts`),
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
