import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { trackMedia, type MediaTracker } from '../helpers/mediaTracker.ts';
import { createRoom, joinBot, sleep, type Bot } from './bot.ts';

// A room spread over routers under concurrency: members joining, producing, consuming and
// leaving at the same time pipe the same producers concurrently; once everyone has gone,
// nothing may be left open (routers, pipe transports, pipe producers and consumers).

async function until(what: string, cond: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('multi-router races (2 workers, signaling bots)', () => {
  let s: TestServer;
  let media: MediaTracker;
  before(async () => {
    media = trackMedia();
    s = await startTestServer({ media: { numWorkers: 2, maxConsumersPerRouter: 4 } });
  });
  after(async () => {
    await s.stop();
    media.stop();
  });

  test('eight members join, publish and consume at once, then leave at once: nothing leaks', async () => {
    const roomId = await createRoom(s.wsUrl, 'Crowd');
    const room = s.app.tutti.rooms.get(roomId)!;
    const n = 8;
    // Two waves, so the first routers fill and later members spread.
    const join = async (i: number): Promise<Bot> => {
      const b = await joinBot(s.wsUrl, roomId, `m${i}`);
      await b.setupMedia();
      await Promise.all([b.produce('mic'), b.produce('camera')]);
      return b;
    };
    const first = await Promise.all([0, 1, 2].map(join));
    await Promise.all(first.map((b) => b.waitConsumers(4)));
    const rest = await Promise.all([3, 4, 5, 6, 7].map(join));
    const bots = [...first, ...rest];
    // Everyone consumes everyone else's mic and camera.
    await Promise.all(bots.map((b) => b.waitConsumers(2 * (n - 1), 10_000)));
    const routers = room.media.routers();
    assert.ok(routers.length >= 2, `spread over ${routers.length} routers`);
    assert.equal(new Set(routers.map((r) => r.workerPid)).size, 2, 'on both workers');
    assert.ok(room.media.pipes > 0);
    const pipes = () => [...media.transports].filter((t) => t.type === 'pipe').length;
    assert.ok(pipes() >= 2);
    // Every consumer consumes a producer its router has (piped or local), once per member.
    for (const b of bots) {
      const ids = b.consumers.map((c) => c.producerId);
      assert.equal(new Set(ids).size, ids.length, `${b.join.self.nickname}: no duplicates`);
    }

    // Half leave at once: the routers they leave empty close; the rest keep everything.
    for (const b of bots.slice(0, 4)) b.client.close();
    await until('the leavers’ media gone', () =>
      bots.slice(0, 4).every((b) => media.ofPeer(b.join.self.id).transports.length === 0),
    );
    for (const b of bots.slice(4)) b.client.close();
    await until('every router closed', () => media.routers.size === 0);
    assert.equal(media.transports.size, 0, 'no transport left (WebRTC or pipe)');
    assert.equal(media.producers.size, 0, 'no producer left (nor pipe producer)');
    assert.equal(media.consumers.size, 0, 'no consumer left (nor pipe consumer)');
    assert.equal(room.media.routers().length, 0);
    assert.equal(pipes(), 0);
  });

  test('a burst of viewers joining at once is spread by the consumers they will have', async () => {
    const roomId = await createRoom(s.wsUrl, 'Burst');
    const room = s.app.tutti.rooms.get(roomId)!;
    const presenter = await joinBot(s.wsUrl, roomId, 'presenter');
    await presenter.setupMedia();
    await presenter.produce('screen');
    // Eight joins in flight together: none has a consumer yet when the next one is placed.
    const viewers = await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => joinBot(s.wsUrl, roomId, `v${i}`)),
    );
    const routers = room.media.routers();
    assert.equal(routers.length, 2);
    assert.deepEqual(
      routers.map((r) => r.members.length),
      [5, 4],
      'presenter + 4 viewers (4 expected consumers), then 4 viewers on the other worker',
    );
    await Promise.all(viewers.map((v) => v.setupMedia()));
    await Promise.all(viewers.map((v) => v.waitConsumers(1)));
    await until('4 consumers on each router', () =>
      room.media.routers().every((r) => r.consumers === 4),
    );
    for (const b of [presenter, ...viewers]) b.client.close();
    await until('every router closed', () => media.routers.size === 0);
  });
});
