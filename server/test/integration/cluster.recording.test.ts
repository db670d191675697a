import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RecordingState } from '@tutti/protocol';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import {
  FreezableHub,
  startClusterApps,
  type ClusterApp,
  type ClusterApps,
} from '../helpers/clusterApps.ts';
import { rejectCode } from './bot.ts';

// A room's recording across nodes (issue #13, docs/cluster.md): started on node A, members on
// node B see it (join answer, recording.state) — also a node that started after it began
// (it asks); a stop from B runs on A and everybody sees it end; a start on B while A records
// is refused; a guest without the owner secret is refused on both sides; the recording node
// dying ends it for the others with a reason. Two (then three) apps on one in-process hub.

// Addresses of this run's own (127.0.16.x); recording ports away from the workers' range.
const IP = '127.0.16.1';
const base = 53_000 + 2 * Math.floor(Math.random() * 2000);
const OVERRIDES = {
  media: { listenIp: IP },
  recording: { ip: IP, portMin: base, portMax: base + 99 },
};

describe('recording state across nodes (in-process hub)', () => {
  const hub = new FreezableHub();
  let apps: ClusterApps;
  let late: ClusterApps | undefined;
  let a: ClusterApp, b: ClusterApp;
  const clients: SignalingClient[] = [];
  let roomId: string;
  let ownerSecret: string;

  const connect = async (node: ClusterApp) => {
    const c = await connectSignaling(node.wsUrl);
    clients.push(c);
    return c;
  };
  const join = async (node: ClusterApp, nickname: string) => {
    const client = await connect(node);
    const answer = await client.request('room.join', { roomId, nickname });
    return { client, answer };
  };
  const active = (want: boolean) => (d: { state: RecordingState }) => d.state.active === want;

  before(async () => {
    apps = await startClusterApps(2, OVERRIDES, { hub, prefix: `rec-${process.pid}-` });
    [a, b] = apps.nodes as [ClusterApp, ClusterApp];
    const c = await connect(a);
    const created = await c.request('room.create', { name: 'Recorded across nodes' });
    roomId = created.room.id;
    ownerSecret = created.ownerSecret;
  });

  after(async () => {
    for (const c of clients) c.close();
    await late?.stop();
    await apps?.stop();
  });

  test('started on A, it shows on B; a late node asks; stop from B ends it on A', async () => {
    const ann = await join(a, 'Ann');
    const ben = await join(b, 'Ben');
    assert.equal(ben.answer.recording?.active, false);

    const started = await ann.client.request('recording.start', { ownerSecret });
    assert.equal(started.state.active, true);
    const seen = await ben.client.nextNotification('recording.state', active(true));
    assert.equal(seen.state.startedAt, started.state.startedAt);
    // A newcomer on B is told in its join answer; recording.list on B says so too.
    const cid = await join(b, 'Cid');
    assert.equal(cid.answer.recording?.active, true);
    assert.equal((await cid.client.request('recording.list', {})).recording.active, true);

    // A node that started after the recording began never heard the bus event: it asks.
    late = await startClusterApps(
      1,
      { ...OVERRIDES, data: { dir: a.config.data.dir } },
      {
        hub,
        prefix: `rec-late-${process.pid}-`,
      },
    );
    const dee = await join(late.nodes[0]!, 'Dee');
    assert.equal(dee.answer.recording?.active, true, 'the late node asked the others');
    await late.stop();
    late = undefined;

    // Starting again on B is refused: the room is being recorded (on A).
    assert.equal(
      await rejectCode(ben.client.request('recording.start', { ownerSecret })),
      'INVALID_REQUEST',
    );
    // A guest without the owner secret may not stop it, from B either.
    assert.equal(await rejectCode(ben.client.request('recording.stop', {})), 'FORBIDDEN');
    assert.equal(
      await rejectCode(ben.client.request('recording.stop', { ownerSecret: 'not-it' })),
      'FORBIDDEN',
    );

    // Stop from B: it runs on A, and every member on both nodes sees it end.
    const stopped = await ben.client.request('recording.stop', { ownerSecret });
    assert.equal(stopped.state.active, false);
    await ann.client.nextNotification('recording.state', active(false));
    await cid.client.nextNotification('recording.state', active(false));
    // A stored it (its members get the item).
    await ann.client.nextNotification('recording.item', undefined, 30_000);
    // Nothing runs on B, and stopping again anywhere is refused with a clear code.
    assert.equal(
      await rejectCode(ben.client.request('recording.stop', { ownerSecret })),
      'INVALID_REQUEST',
    );
    assert.equal(
      await rejectCode(ann.client.request('recording.stop', { ownerSecret })),
      'INVALID_REQUEST',
    );
  });

  test('the recording node dying ends the recording for the others, with a reason', async () => {
    const ben = await join(b, 'Eve');
    const owner = await join(a, 'Fay');
    await owner.client.request('recording.start', { ownerSecret });
    await ben.client.nextNotification('recording.state', active(true));
    ben.client.clearNotifications();
    // A dies (its heartbeats stop, its entry goes stale): B hears nodeLeft. A clean shutdown
    // would instead end the recording itself (its rooms close first) and say so on the bus.
    hub.frozen.add(a.nodeId);
    await a.app.tutti.cluster.registry.stop();
    const ended = await ben.client.nextNotification('recording.state', active(false), 10_000);
    assert.match(ended.state.error ?? '', /left the cluster/);
    assert.equal((await ben.client.request('recording.list', {})).recording.active, false);
    await a.stop();
  });
});
