import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@tutti/config';
import type { WorkerPool } from '@tutti/media-workers';
import { TuttiError } from '@tutti/protocol';
import { silentLogger } from '../../src/kernel/log.ts';
import { RoomRegistry } from '../../src/rooms/RoomRegistry.ts';
import { createStore } from '../../src/store/createStore.ts';
import type { RoomRecord, RoomStore, StoredRoomSettings } from '../../src/store/RoomStore.ts';

// The registry over an async store that can fail: what the caller is told, what stays.

const noPool = {
  createRouter: () => Promise.reject(new Error('no media in unit tests')),
} as unknown as WorkerPool;

/** The real SQLite room store, with writes that can be made to fail like a database outage. */
class FlakyRoomStore implements RoomStore {
  failing = false;
  readonly #inner: RoomStore;
  constructor(inner: RoomStore) {
    this.#inner = inner;
  }
  #check(): void {
    if (this.failing) throw new TuttiError('STORE_UNAVAILABLE', 'the database is unavailable');
  }
  list = () => this.#inner.list();
  get = (id: string) => this.#inner.get(id);
  insert = async (r: RoomRecord) => (this.#check(), this.#inner.insert(r));
  update = async (r: RoomRecord) => (this.#check(), this.#inner.update(r));
  setEmptySince = async (id: string, at: number | null) => (
    this.#check(),
    this.#inner.setEmptySince(id, at)
  );
  setSettings = async (id: string, s: StoredRoomSettings) => (
    this.#check(),
    this.#inner.setSettings(id, s)
  );
  delete = async (id: string) => (this.#check(), this.#inner.delete(id));
  close = () => this.#inner.close();
}

async function setup(rooms: Record<string, unknown> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'tutti-rooms-store-'));
  const config = loadConfig({ data: { dir }, rooms }, { TUTTI_CONFIG: undefined, NO: '1' });
  const stores = await createStore({ dataDir: dir });
  const store = new FlakyRoomStore(stores.rooms);
  let now = 1_000_000;
  const reg = await RoomRegistry.create({
    config,
    store,
    pool: noPool,
    log: silentLogger,
    now: () => now,
  });
  return {
    reg,
    store,
    advance: (ms: number) => (now += ms),
    reopen: () => RoomRegistry.create({ config, store, pool: noPool, log: silentLogger }),
    async done() {
      await reg.close();
      await stores.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof TuttiError ? e.code : String(e)),
  );

test('store down: create and update answer STORE_UNAVAILABLE and change nothing', async () => {
  const s = await setup();
  try {
    const { room, ownerSecret } = await s.reg.create({ name: 'Kept' }, 'ip');
    s.store.failing = true;
    assert.equal(await codeOf(s.reg.create({ name: 'New' }, 'ip')), 'STORE_UNAVAILABLE');
    assert.equal(
      await codeOf(s.reg.update(room.id, ownerSecret, 'ip', { name: 'Renamed' })),
      'STORE_UNAVAILABLE',
    );
    assert.deepEqual(
      s.reg.list().map((r) => r.name),
      ['Kept'],
    );
    s.store.failing = false;
    assert.equal(await codeOf(s.reg.create({ name: 'New' }, 'ip')), 'ok', 'the name is free');
  } finally {
    await s.done();
  }
});

test('store down: an owner delete fails and the room stays; the idle sweep retries later', async () => {
  const s = await setup({ idleTtlSeconds: 60 });
  try {
    const { room, ownerSecret } = await s.reg.create({ name: 'Stays' }, 'ip');
    s.store.failing = true;
    assert.equal(await codeOf(s.reg.delete(room.id, ownerSecret, 'ip')), 'STORE_UNAVAILABLE');
    assert.equal(s.reg.get(room.id)?.id, room.id, 'back in the registry');
    s.advance(61_000);
    assert.deepEqual(await s.reg.cleanup(), [], 'the sweep failed quietly');
    assert.equal(s.reg.get(room.id)?.id, room.id);
    s.store.failing = false;
    assert.deepEqual(await s.reg.cleanup(), [room.id]);
    const again = await s.reopen();
    assert.equal(again.get(room.id), undefined, 'gone from the store too');
    await again.close();
  } finally {
    await s.done();
  }
});
