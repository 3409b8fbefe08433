/** The bytes-store contract, run on memory:// and lmdb:// alike: writes, tombstones, checkpoints, wipe, reopen. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { openStore } from '../../src/state/stores.js'
import type { BytesStore } from '../../src/state/types.js'

const root = mkdtempSync(join(tmpdir(), 'tributary-stores-'))
after(() => rmSync(root, { recursive: true, force: true }))

const b = (text: string): Buffer => Buffer.from(text)
const location = (name: string) => ({ name, taskId: '0_1', stateDir: join(root, 'slot'), workerId: 'w1' })

for (const url of ['memory://', 'lmdb://']) {
  describe(`the ${url} store`, () => {
    const open = (name: string): BytesStore => openStore(url, location(name))

    test('applies a batch in order, a null value deleting the key', async () => {
      const store = open('order')
      store.write([
        { key: b('a'), value: b('1') },
        { key: b('b'), value: b('2') },
        { key: b('a'), value: b('3') },
        { key: b('b'), value: null },
      ])
      assert.deepEqual(store.get(b('a')), b('3'))
      assert.equal(store.get(b('b')), undefined)
      assert.equal(store.count(), 1)
      assert.deepEqual([...store.entries()], [[b('a'), b('3')]])
      await store.close()
    })

    test('wipe removes every entry and the checkpoint', async () => {
      const store = open('wipe')
      store.write([{ key: b('k'), value: b('v') }])
      store.writeCheckpoint(5)
      store.wipe()
      assert.equal(store.count(), 0)
      assert.equal(store.readCheckpoint(), undefined)
      await store.close()
    })
  })
}

describe('the lmdb:// store', () => {
  test('keeps its entries and checkpoint across a close, in the worker slot of the state directory', async () => {
    const first = openStore('lmdb://', location('kept'))
    first.write([
      { key: b('x'), value: b('10') },
      { key: b('w'), value: b('20') },
    ])
    first.writeCheckpoint(42)
    await first.close()
    const second = openStore('lmdb://', location('kept'))
    assert.equal(second.readCheckpoint(), 42)
    assert.deepEqual(
      [...second.entries()].map(([k, v]) => `${k.toString()}=${v.toString()}`),
      ['w=20', 'x=10'],
      'in key-byte order',
    )
    second.writeCheckpoint(undefined)
    assert.equal(second.readCheckpoint(), undefined)
    await second.close()
  })

  test('a directory in the URL holds a folder per worker id', async () => {
    const dir = join(root, 'given')
    const store = openStore(`lmdb://${dir}`, location('named'))
    assert.equal((store as unknown as { path: string }).path, join(dir, 'w1', '0_1', 'named'))
    await store.close()
  })

  test('without a state directory, lmdb:// says where it wanted to keep its files', () => {
    assert.throws(
      () => openStore('lmdb://', { ...location('none'), stateDir: undefined }),
      /table "none": store lmdb:\/\/ keeps its files in the worker's stateDir, and this worker has none/,
    )
  })

  test('the memory store keeps no checkpoint: its table restores in full', async () => {
    const store = openStore('memory://', location('m'))
    store.writeCheckpoint(9)
    assert.equal(store.readCheckpoint(), undefined)
    assert.equal(store.persistent, false)
    await store.close()
  })
})
