import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { FreezableHub, startClusterApps, type ClusterApps } from '../helpers/clusterApps.ts';
import { rejectCode } from './bot.ts';

// A node's moderators see the rooms' waiting lists without the people waiting on nodes it
// sees gone (Moderation.waitingEntries). A node going, and coming back, changes that list
// though the shared one did not: the moderators are told it again both times. (Before, a
// knock on a node seen gone a moment, as a loaded box's stall makes one, stayed hidden from
// the moderators until the next knock: cluster.waitingRestart.test.ts timed out so.)

const HOST = process.env.TUTTI_TEST_CLUSTER_HOSTS?.split(',')[0] ?? '127.0.0.1';
const hub = new FreezableHub();
let apps: ClusterApps | undefined;
const clients: SignalingClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await apps?.stop();
});

async function connect(wsUrl: string, address: string): Promise<SignalingClient> {
  const c = await connectSignaling(wsUrl, 10_000, { headers: { 'x-forwarded-for': address } });
  clients.push(c);
  return c;
}

test('a node seen gone, then back: the moderators elsewhere are told the list each time', async () => {
  apps = await startClusterApps(
    2,
    { server: { trustProxy: '127.0.0.1' }, media: { listenIp: HOST } },
    { hub, prefix: `wl-${process.pid}-` },
  );
  const [a, b] = apps.nodes as [ClusterApps['nodes'][0], ClusterApps['nodes'][0]];
  const olga = await connect(a.wsUrl, '10.0.18.1');
  const created = await olga.request('room.create', { name: 'Waiting, node flaps' });
  const roomId = created.room.id;
  await olga.request('room.join', { roomId, nickname: 'Olga', ownerSecret: created.ownerSecret });
  await olga.request('moderation.settings', { waitingRoom: true });
  const wes = await connect(b.wsUrl, '10.0.18.2');
  assert.equal(await rejectCode(wes.request('room.join', { roomId, nickname: 'Wes' })), 'WAITING');
  await olga.nextNotification('moderation.waiting', (d) => d.waiting.length === 1);

  const registry = a.app.tutti.cluster.registry;
  olga.clearNotifications();
  hub.frozen.add(b.nodeId); // B's beats stop reaching the registry: A declares it gone.
  const gone = await olga.nextNotification('moderation.waiting', undefined, 10_000);
  assert.equal(registry.get(b.nodeId), undefined, 'A sees B gone');
  assert.deepEqual(gone.waiting, [], 'no one listed on a node seen gone');

  hub.frozen.delete(b.nodeId); // Its next beat finds its entry gone: it is reinstated.
  // Wes, still waiting on B, is listed again (nothing else changed the shared list).
  const back = await olga.nextNotification(
    'moderation.waiting',
    (d) => d.waiting.length > 0,
    10_000,
  );
  assert.ok(registry.get(b.nodeId), 'A sees B again');
  assert.deepEqual(
    back.waiting.map((p) => p.nickname),
    ['Wes'],
  );
});
