import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HandQueueState } from '@tutti/protocol';
import { deepMerge, startClusterApps, type ClusterApps } from '../helpers/clusterApps.ts';
import {
  createRoom,
  join,
  onRedis,
  until,
  useEnv,
  type Joined,
} from './cluster.roomLife.helpers.ts';

// A room's life speaks to the members of other nodes on the bus (`life.event`). A node reads
// the registry once a heartbeat, so one that just started is not listed yet on the others: its
// events must not be lost for that (the registry is read again, and they are delivered in
// their order). A node really declared gone stays unheard (it may run a room taken over since).
// Nodes in this process on real Redis + PostgreSQL.

const queueOf = (...peers: string[]): HandQueueState => ({
  queue: peers.map((peerId, i) => ({ peerId, raisedAt: 1_000 + i })),
});

const handQueues = (m: Joined, from: number) =>
  m.client.notifications
    .slice(from)
    .filter((n) => n.method === 'hand.queue')
    .map((n) => (n.data as HandQueueState).queue.map((h) => h.peerId).join(','));

describe('cluster room life: events of a node not listed (Redis + PostgreSQL)', () => {
  const started: ClusterApps[] = [];
  // Registered first, so run first: the nodes started here go before the env's services.
  after(async () => {
    for (const apps of started.reverse()) await apps.stop();
  });
  const got = useEnv(() => onRedis('life-unlisted', 1));
  const start = async (name: string, cluster: Record<string, unknown> = {}) => {
    const overrides = deepMerge(got.env.overrides!, { cluster });
    const apps = await startClusterApps(1, overrides, {
      prefix: `life-unlisted-${name}-${process.pid}-`,
    });
    started.push(apps);
    return apps.nodes[0]!;
  };
  let early: Awaited<ReturnType<typeof start>>;
  before(async () => {
    // Scans once a minute: it will not list a node started after it.
    early = await start('early', { heartbeatMs: 60_000, nodeTimeoutMs: 120_000 });
  });

  test('a node started since the last scan is heard: its events arrive, in their order', async () => {
    const { roomId } = await createRoom(early, 'Unlisted');
    const ben = await join(early, roomId, 'Ben'); // early runs the room's life
    const late = await start('late');
    assert.equal(early.app.tutti.cluster.registry.get(late.nodeId), undefined, 'not listed yet');
    const from = ben.client.notifications.length;
    const sent = [queueOf('a'), queueOf('a', 'b'), queueOf('a', 'b', 'c')];
    for (const data of sent) {
      await late.app.tutti.cluster.bus.publish({
        type: 'life.event',
        roomId,
        event: { method: 'hand.queue', data },
      });
    }
    await ben.client.nextNotification('hand.queue', (q) => q.queue.length === 3, 10_000);
    assert.deepEqual(handQueues(ben, from), ['a', 'a,b', 'a,b,c']);
    assert.ok(early.app.tutti.cluster.registry.get(late.nodeId), 'listed after a fresh scan');
  });

  test('a node declared gone stays unheard', async () => {
    const [watcher] = got.nodes; // fast scans: it declares a silent node gone within a second
    const { roomId } = await createRoom(watcher!, 'Gone');
    const cy = await join(watcher!, roomId, 'Cy');
    const gone = await start('gone');
    const marker = await start('marker');
    const registry = watcher!.app.tutti.cluster.registry;
    await until('both listed', () => !!registry.get(gone.nodeId) && !!registry.get(marker.nodeId));
    await gone.app.tutti.cluster.registry.stop(); // its entry goes; its bus stays up
    await until('declared gone', () => registry.get(gone.nodeId) === undefined);

    const from = cy.client.notifications.length;
    const publish = (at: typeof gone, data: HandQueueState) =>
      at.app.tutti.cluster.bus.publish({
        type: 'life.event',
        roomId,
        event: { method: 'hand.queue', data },
      });
    await publish(gone, queueOf('gone'));
    await publish(marker, queueOf('marker')); // published after it: it arrives after it
    await cy.client.nextNotification('hand.queue', (q) => q.queue[0]?.peerId === 'marker');
    await registry.refresh(); // any read the gone node's event set off is over
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(handQueues(cy, from), ['marker']);
  });
});
