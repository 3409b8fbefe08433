import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parsePrometheusText, valueOf } from './prometheus.js'

const GOOD = [
  '# HELP jobs_total Jobs done, with a \\\\ and a \\n in the help.',
  '# TYPE jobs_total counter',
  'jobs_total{queue="a\\"b\\\\c\\nd",shard="1"} 3',
  'jobs_total{queue="e",shard="2"} 1.5e3 1700000000000',
  '',
  '# HELP temp Temperature.',
  '# TYPE temp gauge',
  'temp NaN',
  'temp{room="x"} -Inf',
  'temp{room="y"} Nan',
  'temp{room="z"} +infinity',
  '',
].join('\n')

test('the parser reads names, unescaped labels, values and help', () => {
  const families = parsePrometheusText(GOOD)
  assert.equal(families.get('jobs_total')?.help, 'Jobs done, with a \\ and a \n in the help.')
  assert.equal(valueOf(families, 'jobs_total', { queue: 'a"b\\c\nd' }), 3)
  assert.equal(valueOf(families, 'jobs_total', { shard: '2' }), 1500)
  assert.equal(valueOf(families, 'temp', { room: 'x' }), -Infinity)
  assert.ok(Number.isNaN(valueOf(families, 'temp', { room: 'y' })))
  assert.equal(valueOf(families, 'temp', { room: 'z' }), Infinity)
  assert.ok(Number.isNaN(families.get('temp')?.samples[0]?.value))
})

test('the parser refuses every malformed exposition it is given', () => {
  const bad: Array<[string, RegExp]> = [
    ['# HELP x X.\n# TYPE x gauge\nx 1', /newline/],
    ['x 1\n', /without HELP and TYPE/],
    ['# TYPE x gauge\nx 1\n', /TYPE without HELP/],
    ['# HELP x X.\n# TYPE x gauge\nx one\n', /non-numeric/],
    ['# HELP x X.\n# TYPE x gauge\nx -NaN\n', /non-numeric/],
    ['# HELP x X.\n# TYPE x gauge\nx 1 2 3\n', /value \[timestamp\]/],
    ['# HELP x X.\n# TYPE x gauge\nx  1\n', /value \[timestamp\]/],
    ['# HELP x X.\n# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n', /repeated series/],
    ['# HELP x X.\n# TYPE x gauge\nx{a="\\t"} 1\n', /bad escape/],
    ['# HELP x X.\n# TYPE x gauge\nx{a="1",} 1\n', /trailing comma/],
    ['# HELP x X.\n# TYPE x gauge\nx{a="1" b="2"} 1\n', /comma/],
    ['# HELP x X.\n# TYPE x gauge\nx{a="1} 1\n', /unterminated/],
    ['# HELP x X.\n# TYPE x gauge\nx{1a="1"} 1\n', /bad label name/],
    ['# HELP x X.\n# TYPE x meter\nx 1\n', /unknown type/],
    ['# HELP x X.\n# TYPE x gauge\nx 1\n# HELP y Y.\n# TYPE y gauge\ny 1\nx{a="b"} 2\n', /apart/],
    ['# HELP x X.\n# TYPE x gauge\nx 1\n# TYPE x gauge\n', /after the samples/],
    ['# HELP x X.\n# TYPE x histogram\nx_bucket 1\n', /without le/],
  ]
  for (const [text, error] of bad) assert.throws(() => parsePrometheusText(text), error, text)
})
