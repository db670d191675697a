import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContractFixture } from '../helpers/clusterContract.ts';

/** The placement part of the cluster contract: seats, capacity, lobby counts. */
export function seatsContract({ setup }: ContractFixture): void {
  it('seats: 50 concurrent reserves from two nodes for capacity 10 admit exactly 10', async () => {
    const { a, b, id } = await setup();
    const room = `cap-${id}`;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 ? a : b).placement.reserve(room, `m${i}`, (i % 2 ? a : b).nodeId, 10),
      ),
    );
    assert.equal(results.filter((r) => r.ok).length, 10);
    assert.ok(results.filter((r) => !r.ok).every((r) => r.count === 10));
    const spread = await a.placement.spread(room);
    assert.equal(spread.count, 10);
    assert.equal(
      Object.values(spread.nodes).reduce((x, y) => x + y, 0),
      10,
    );

    const admitted = results.findIndex((r) => r.ok);
    assert.equal(
      (await a.placement.reserve(room, `m${admitted}`, `x`, 10)).ok,
      true,
      'a seat holder moving node keeps its seat',
    );
    assert.equal((await a.placement.reserve(room, 'late', a.nodeId, 10)).ok, false);
    assert.equal(await b.placement.release(room, `m${admitted}`), true);
    assert.equal(await b.placement.release(room, `m${admitted}`), false, 'release is idempotent');
    assert.deepEqual(await a.placement.reserve(room, 'late', a.nodeId, 10), {
      ok: true,
      count: 10,
    });
    assert.deepEqual(await a.placement.reserve(room, 'late', a.nodeId, 10), {
      ok: true,
      count: 10,
    });
  });

  it('placement: first node, hosting nodes, lobby counts, a node’s seats released at once', async () => {
    const { a, b, id } = await setup();
    const room = `place-${id}`;
    await a.placement.reserve(room, 'm1', a.nodeId, 10);
    await b.placement.reserve(room, 'm2', b.nodeId, 10);
    await b.placement.reserve(room, 'm3', b.nodeId, 10);
    assert.deepEqual(await b.placement.spread(room), {
      count: 3,
      nodes: { [a.nodeId]: 1, [b.nodeId]: 2 },
      firstNode: a.nodeId,
    });
    const lobby = (await a.placement.rooms()).find((r) => r.roomId === room);
    assert.deepEqual(lobby, { roomId: room, count: 3 });
    await a.placement.release(room, 'm1');
    assert.equal((await a.placement.spread(room)).firstNode, b.nodeId, 'first node handed on');
    assert.equal(await a.placement.releaseNode(b.nodeId), 2);
    assert.deepEqual(await a.placement.spread(room), { count: 0, nodes: {}, firstNode: null });
    assert.equal(
      (await a.placement.rooms()).find((r) => r.roomId === room),
      undefined,
    );
  });
}
