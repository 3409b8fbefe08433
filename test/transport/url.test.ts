import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TributaryError } from '../../src/errors.js'
import { parseTransportUrl } from '../../src/transport/url.js'

test('memory:// without a name is the default embedded broker', () => {
  assert.deepEqual(parseTransportUrl('memory://'), { scheme: 'memory', name: 'default' })
  assert.deepEqual(parseTransportUrl('memory://tests'), { scheme: 'memory', name: 'tests' })
})

test('kafka:// takes a list of brokers and a bare host:port list means kafka', () => {
  const parsed = parseTransportUrl('kafka://a:9092,b:9093')
  assert.equal(parsed.scheme, 'kafka')
  assert.deepEqual(parsed.scheme === 'kafka' && parsed.brokers, ['a:9092', 'b:9093'])
  const bare = parseTransportUrl('localhost:9092')
  assert.deepEqual(bare.scheme === 'kafka' && bare.brokers, ['localhost:9092'])
})

test('credentials and the SASL mechanism come from the URL, percent-decoded', () => {
  const parsed = parseTransportUrl('kafka://alice:p%40ss@h:9093?sasl=scram-sha-512&tls=true')
  assert.ok(parsed.scheme === 'kafka')
  assert.deepEqual(parsed.options.sasl, { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'p@ss' })
  assert.equal(parsed.options.tls, true)
  assert.equal(parsed.display, 'kafka://h:9093', 'the display form carries no password')
})

test('malformed URLs are refused with a message naming what is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['http://x:1', /Unknown broker URL scheme/],
    ['kafka://host', /not host:port/],
    ['kafka://host:99999', /not host:port/],
    ['kafka://u:p@h:1?sasl=GSSAPI', /Unknown SASL mechanism "GSSAPI"/],
    ['kafka://h:1?sasl=PLAIN', /user:password@/],
  ]
  for (const [url, message] of cases) {
    assert.throws(
      () => parseTransportUrl(url),
      (e: unknown) => e instanceof TributaryError && message.test(e.message),
      url,
    )
  }
})
