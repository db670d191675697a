import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { startClusterApps, type ClusterApps } from '../helpers/clusterApps.ts';
import { startOwnRedis, type OwnRedis } from '../helpers/redisServer.ts';
import { rejectCode, sleep } from './bot.ts';

// Redis unavailable: a join (it needs a cluster seat) answers MEDIA_UNAVAILABLE within the
// timeouts instead of hanging, and joins work again once Redis is back. A private Redis,
// frozen with SIGSTOP (every command then times out).

let redis: OwnRedis;
let apps: ClusterApps;
const clients: SignalingClient[] = [];

before(async () => {
  redis = await startOwnRedis();
  apps = await startClusterApps(2, { redis: { url: redis.url, commandTimeoutMs: 500 } });
});
after(async () => {
  for (const c of clients) c.close();
  await apps?.stop();
  await redis?.stop();
});

async function join(i: number, roomId: string, nickname: string) {
  const c = await connectSignaling(apps.nodes[i]!.wsUrl);
  clients.push(c);
  return c.request('room.join', { roomId, nickname });
}

test('Redis frozen: joins fail fast with MEDIA_UNAVAILABLE; back to normal once it thaws', async () => {
  const c = await connectSignaling(apps.nodes[0]!.wsUrl);
  clients.push(c);
  const { room } = await c.request('room.create', { name: 'Outage' });
  await join(0, room.id, 'Before');
  redis.freeze();
  try {
    const start = Date.now();
    assert.equal(await rejectCode(join(0, room.id, 'During')), 'MEDIA_UNAVAILABLE');
    assert.ok(Date.now() - start < 4000, `answered after ${Date.now() - start} ms`);
  } finally {
    redis.thaw();
  }
  let joined = false;
  for (let i = 0; i < 50 && !joined; i++) {
    joined = await join(0, room.id, `After${i}`).then(
      () => true,
      async () => {
        await sleep(200);
        return false;
      },
    );
  }
  assert.ok(joined, 'a join works again once Redis is back');
});
