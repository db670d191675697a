import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { signalingMembers } from '../../../test/helpers/signalingMembers.ts';
import { LocalClusterHub } from '../../src/cluster/index.ts';
import { startClusterApps, type ClusterApp, type ClusterApps } from '../helpers/clusterApps.ts';

// E2EE key epochs across nodes (docs/e2ee.md): members of one room on two nodes must seal
// with one epoch. A rotation on B and a leave on B reach the member on A; a node that starts
// later asks for the epoch when the room's first member joins it. Apps on one in-process hub.

const OVERRIDES = { media: { listenIp: '127.0.16.2' } };
const hub = new LocalClusterHub();
let apps: ClusterApps;
let late: ClusterApps | undefined;
const members = signalingMembers();

before(async () => {
  apps = await startClusterApps(2, OVERRIDES, { hub, prefix: `e2ee-${process.pid}-` });
});
after(async () => {
  members.closeAll();
  await late?.stop();
  await apps?.stop();
});

const join = (node: ClusterApp, roomId: string, nickname: string) =>
  members.join(node, roomId, nickname);

test('every node follows the room’s highest key epoch; a late node asks for it', async () => {
  const [a, b] = apps.nodes as [ClusterApp, ClusterApp];
  const { roomId } = await members.createRoom(a, 'Sealed across nodes', { e2ee: true });
  const ann = await join(a, roomId, 'Ann');
  const ben = await join(b, roomId, 'Ben');
  assert.equal(ben.answer.e2eeEpoch, 0);

  await ben.client.request('e2ee.rotate', {});
  assert.deepEqual(await ann.client.nextNotification('e2ee.epoch'), { epoch: 1, reason: 'rotate' });

  // Cid joins on B and leaves: the member on A moves on too.
  const cid = await join(b, roomId, 'Cid');
  assert.equal(cid.answer.e2eeEpoch, 1);
  await cid.client.request('room.leave', {});
  assert.deepEqual(await ann.client.nextNotification('e2ee.epoch'), { epoch: 2, reason: 'left' });
  assert.deepEqual(await ben.client.nextNotification('e2ee.epoch', (d) => d.epoch === 2), {
    epoch: 2,
    reason: 'left',
  });

  // The only member on B leaving still moves the room on for the member on A.
  await ben.client.request('room.leave', {});
  assert.deepEqual(await ann.client.nextNotification('e2ee.epoch'), { epoch: 3, reason: 'left' });

  // A node started now heard none of it: its first member of the room is told epoch 3.
  late = await startClusterApps(
    1,
    { ...OVERRIDES, data: { dir: a.config.data.dir } },
    { hub, prefix: `e2ee-late-${process.pid}-` },
  );
  const dee = await join(late.nodes[0]!, roomId, 'Dee');
  assert.equal(dee.answer.e2eeEpoch, 3);
});
