/**
 * The webhooks' room runs across nodes (federation/roomSessions.ts, roomSessionStore.ts) on
 * their own, on the in-process hub and on a real Redis: of many first joins at once from two
 * nodes exactly one starts the run, of many last leaves exactly one finishes it (with the
 * room's name as it started), a move is neither, a member handed over that never arrives is
 * out after the arrival time, and a dead node's members are released by whichever node sees
 * it first: its runs finish once.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalClusterHub } from '../../src/cluster/index.ts';
import type { NodeRegistry } from '../../src/cluster/index.ts';
import { createRoomSessions } from '../../src/federation/roomSessions.ts';
import {
  localRoomSessionStore,
  redisRoomSessionStore,
  type RoomSessionStore,
} from '../../src/federation/roomSessionStore.ts';
import { silentLogger as log } from '../../src/kernel/log.ts';
import { dropRedisKeys, TEST_REDIS_URL } from '../../../test/helpers/redisKeys.ts';
import { sleep, until } from '../../../test/helpers/waits.ts';

/** A registry that only lets the test say a node left, or that this one is back. */
function fakeRegistry() {
  const on: Record<string, ((nodeId: string) => unknown)[]> = { nodeLeft: [], selfReinstated: [] };
  const registry = {
    on: (event: string, fn: (nodeId: string) => unknown) => {
      on[event]?.push(fn);
      return () => {};
    },
  } as unknown as Pick<NodeRegistry, 'on'>;
  const leave = (nodeId: string) => Promise.all(on.nodeLeft!.map((fn) => fn(nodeId)));
  const back = () => on.selfReinstated!.forEach((fn) => fn(''));
  return { registry, leave, back };
}

/** Every node a test made: closed after it, passed or not (their Redis connections). */
const made: Node[] = [];

/** Nodes (n1 and n2 unless `ids`) on stores from `store`, started (their stores connected). */
async function nodes(
  store: () => RoomSessionStore,
  arrivalMs = 60_000,
  ids = ['n1', 'n2'],
): Promise<[Node, Node]> {
  const two = ids.map((nodeId) => {
    const { registry, leave, back } = fakeRegistry();
    const finished: string[] = [];
    let returned = 0;
    const sessions = createRoomSessions({
      nodeId,
      registry,
      store: store(),
      log,
      timeoutMs: 2000,
      arrivalMs,
    });
    sessions.onFinished((roomId, name) => finished.push(`${roomId} ${name}`));
    sessions.onReturned(() => returned++);
    return { nodeId, sessions, leave, back, finished, returned: () => returned };
  }) as [Node, Node];
  made.push(...two);
  for (const n of two) await n.sessions.start();
  return two;
}
type Node = {
  nodeId: string;
  sessions: ReturnType<typeof createRoomSessions>;
  leave: (nodeId: string) => Promise<unknown>;
  back: () => void;
  finished: string[];
  returned: () => number;
};

function suite(variant: string, makeStore: () => () => RoomSessionStore, cleanup: () => unknown) {
  describe(`room runs across nodes (${variant})`, { concurrency: false }, () => {
    afterEach(async () => {
      for (const n of made.splice(0)) await n.sessions.close();
    });
    after(cleanup);
    test('racing first joins: one start; racing last leaves: one finish, named', async () => {
      const [a, b] = await nodes(makeStore());
      const joins = Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).sessions.joined('race', `m${i}`, 'Race room'),
      );
      assert.equal((await Promise.all(joins)).filter(Boolean).length, 1);
      const leaves = Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).sessions.left('race', `m${i}`, i >= 38),
      );
      assert.deepEqual(
        (await Promise.all(leaves)).filter((n) => n !== undefined),
        ['Race room'],
      );
      // Empty and in again: a new run.
      assert.equal(await a.sessions.joined('race', 'm0', 'Renamed'), true);
      assert.equal(await a.sessions.left('race', 'm0', true), 'Renamed');
    });

    test('a move is no start or finish; a leave from the wrong node changes nothing', async () => {
      const [a, b] = await nodes(makeStore());
      assert.equal(await a.sessions.joined('move', 'ann', 'Move'), true);
      a.sessions.departed('move', 'ann');
      await b.sessions.arrived('move', 'ann');
      assert.equal(await a.sessions.left('move', 'ann', true), undefined, 'she is on b now');
      assert.equal(await b.sessions.joined('move', 'ben', 'Move'), false);
      assert.equal(await b.sessions.left('move', 'ann', false), undefined);
      assert.equal(await b.sessions.left('move', 'ben', true), 'Move');
    });

    test('handed over and never arrived: out after the arrival time', async () => {
      const [a, b] = await nodes(makeStore(), 300);
      assert.equal(await a.sessions.joined('lost', 'ann', 'Lost'), true);
      a.sessions.departed('lost', 'ann');
      await until('the run finished', () => a.finished.length === 1, 5000);
      assert.deepEqual(a.finished, ['lost Lost']);
      assert.deepEqual(b.finished, []);
    });

    test('a dead node: its members out, its runs finished once by whoever sees it', async () => {
      const store = makeStore();
      const [a, b] = await nodes(store);
      const [c] = await nodes(store, 60_000, ['n3']); // A third node that sees it too.
      assert.equal(await a.sessions.joined('dead', 'ann', 'Dead'), true);
      assert.equal(await b.sessions.joined('dead', 'ben', 'Dead'), false);
      assert.equal(await b.sessions.joined('alone', 'bo', 'Alone'), true);
      assert.equal(await a.sessions.joined('kept', 'al', 'Kept'), true);
      assert.equal(await b.sessions.joined('kept', 'bea', 'Kept'), false);
      assert.equal(await a.sessions.left('dead', 'ann', true), undefined);
      await Promise.all([a.leave('n2'), c.leave('n2')]);
      assert.deepEqual([...a.finished, ...c.finished].sort(), ['alone Alone', 'dead Dead']);
      assert.equal(await a.sessions.left('kept', 'al', true), 'Kept', 'bea went with n2');
      // n2 was only frozen: back, its webhooks are told to join its members again.
      b.back();
      assert.equal(b.returned(), 1);
      assert.equal(await b.sessions.joined('alone', 'bo', 'Alone'), true, 'a new run');
      await sleep(50);
    });

    test('a node that starts releases what its past life left', async () => {
      const store = makeStore();
      const [, b] = await nodes(store);
      assert.equal(await b.sessions.joined('past', 'bo', 'Past'), true);
      // n2 again, after a crash: its start (in nodes()) releases bo.
      const [again] = await nodes(store, 60_000, ['n2']);
      assert.deepEqual(again.finished, ['past Past']);
    });
  });
}

suite(
  'in process',
  () => {
    const hub = new LocalClusterHub();
    return () => localRoomSessionStore(hub);
  },
  () => {},
);

const prefix = `tutti:h-roomsessions-test-${process.pid}:`;
suite(
  'Redis',
  () => () => redisRoomSessionStore({ url: TEST_REDIS_URL, prefix }, log),
  () => dropRedisKeys(prefix),
);
