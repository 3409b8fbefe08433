/** kafka:// outage reports: once per outage, after it lasted long enough, whatever part failed. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TributaryError } from '../../../src/errors.js'
import { Outage } from '../../../src/transport/kafka/outage.js'
import { Signal } from '../../../src/transport/kafka/signal.js'

const down = new TributaryError('BROKER_UNREACHABLE', 'Could not fetch records: no broker answered', {
  canRetry: true,
})

test('an outage is reported once, with canRetry, after it lasted the threshold; the next one again', () => {
  let now = 0
  const outage = new Outage(new Signal(), 1_000, () => now)
  outage.note('fetch', down)
  now = 500
  outage.note('group', down)
  assert.equal(outage.take(), undefined, 'not yet')
  now = 1_000
  const reported = outage.take()
  assert.equal(reported?.code, 'BROKER_UNREACHABLE')
  assert.equal(reported?.canRetry, true)
  assert.match(reported.message, /retrying for 1 s/)
  now = 5_000
  outage.note('fetch', down)
  assert.equal(outage.take(), undefined, 'once per outage, not per poll')
  outage.clear('fetch')
  assert.equal(outage.take(), undefined, 'the group part still fails: the same outage')
  outage.clear('group')
  outage.note('fetch', down)
  now = 6_000
  assert.ok(outage.take(), 'a new outage is reported again')
})
