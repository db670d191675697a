import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { PeerInfo, RequestData } from '@tutti/protocol';
import { signalingMembers } from '../../../test/helpers/signalingMembers.ts';
import { hashOwnerSecret, newOwnerSecret, ownedBy, roomNameKey } from '../../src/rooms/security.ts';
import { ApiKeys } from '../../src/admin/keys.ts';
import type { ClusterApp } from '../helpers/clusterApps.ts';
import { inProcessCluster, redisPostgresCluster } from '../helpers/clusterEnvs.ts';
import { rejectCode, sleep } from './bot.ts';

// Issues 11 and 9: room-wide moderation holds across the nodes of a cluster. Two nodes, a
// moderator on one and the people on the other: the lock, "signed-in only", "moderators
// unmute", bars, the waiting room and "end for everyone" are the cluster's, not a node's.
// Once on the in-process hub, once on Redis + PostgreSQL (docs/moderation.md).

interface Env {
  nodes: ClusterApp[];
  close(): Promise<void>;
}

const members = signalingMembers();
/** A socket to a node, seen as coming from `address` (the nodes trust loopback proxies). */
const connect = (node: ClusterApp, address = '10.0.0.1') => members.connect(node, address);
const join = (node: ClusterApp, data: RequestData<'room.join'>, address = '10.0.0.1') =>
  members.joinWith(node, data, address);
const createRoom = (node: ClusterApp, name: string) =>
  members.createRoom(node, name, {}, '10.0.0.1');

const OVERRIDES = {
  server: { trustProxy: '127.0.0.1', roomCreatesPerMinute: 1000 },
  signaling: { requestsPerSecond: 500, requestBurst: 500 },
  media: { listenIp: '127.0.12.1' },
};

function suite(variant: string, setup: () => Promise<Env>): void {
  describe(`cluster moderation (${variant})`, () => {
    let env: Env;
    let a: ClusterApp, b: ClusterApp;
    /** A room made on node A, its owner joined there. */
    const meeting = async (name: string) => {
      const { roomId, ownerSecret } = await createRoom(a, `${name} ${variant}`);
      const owner = await join(a, { roomId, nickname: 'Olga', ownerSecret });
      assert.equal(owner.answer.self.role, 'owner');
      return { roomId, owner };
    };
    before(async () => {
      env = await setup();
      [a, b] = env.nodes as [ClusterApp, ClusterApp];
    });
    after(async () => {
      members.closeAll();
      await env?.close();
    });

    test('a room created on one node is joined through another at once (no ROOM_NOT_FOUND)', async () => {
      // Sockets opened first: the join reaches node B right after the create answer.
      const creator = await connect(a);
      const joiners = await Promise.all(Array.from({ length: 8 }, () => connect(b)));
      for (const [i, joiner] of joiners.entries()) {
        const r = await creator.request('room.create', { name: `Fresh ${i} ${variant}` });
        const answer = await joiner.request('room.join', { roomId: r.room.id, nickname: 'Fay' });
        assert.equal(answer.room.id, r.room.id);
      }
      // Whether or not the announcement came first: a room only in the shared store (as if
      // its announcement were late) is loaded by node B's door and by its HTTP view.
      for (const how of ['join', 'http'] as const) {
        const id = randomUUID();
        const name = `Unannounced ${how} ${variant}`;
        await a.app.tutti.stores.rooms.insert({
          id,
          name,
          nameKey: roomNameKey(name),
          passwordHash: null,
          capacity: null,
          ownerSecretHash: hashOwnerSecret(newOwnerSecret()),
          createdAt: Date.now(),
          emptySince: Date.now(),
          ...ownedBy(null),
          e2ee: false,
        });
        if (how === 'join') {
          const j = await join(b, { roomId: id, nickname: 'Una' });
          assert.equal(j.answer.room.name, name);
        } else {
          const res = await fetch(`${b.url}/api/rooms/${id}`, {
            signal: AbortSignal.timeout(5000),
          });
          assert.equal(res.status, 200);
        }
      }
    });

    test('settings changed on node A hold at node B’s door and reach its members', async () => {
      const { roomId, owner } = await meeting('Settings');
      const ben = await join(b, { roomId, nickname: 'Ben' });
      await owner.client.nextNotification('room.peerJoined', (d) => d.peer.id === ben.id);
      await owner.client.request('moderation.settings', { locked: true });
      const told = await ben.client.nextNotification('moderation.settings');
      assert.equal(told.settings.locked, true);
      // The very next join through node B is refused, with the code node A would give.
      assert.equal(await rejectCode(join(b, { roomId, nickname: 'Lou' })), 'ROOM_LOCKED');
      assert.equal(await rejectCode(join(a, { roomId, nickname: 'Lou' })), 'ROOM_LOCKED');
      await owner.client.request('moderation.settings', { locked: false, signedInOnly: true });
      assert.equal(await rejectCode(join(b, { roomId, nickname: 'Gus' })), 'SIGN_IN_REQUIRED');
      await owner.client.request('moderation.settings', { signedInOnly: false });
      const lou = await join(b, { roomId, nickname: 'Lou' });
      assert.deepEqual(lou.answer.moderation?.settings, {
        locked: false,
        waitingRoom: false,
        moderatorsUnmute: false,
        signedInOnly: false,
      });
      // "Moderators unmute" set on A holds a mic muted on B.
      await owner.client.request('moderation.settings', { moderatorsUnmute: true });
      await ben.client.nextNotification('moderation.settings', (d) => d.settings.moderatorsUnmute);
      await owner.client.request('moderation.mute', { peerId: ben.id });
      const muted = await ben.client.nextNotification('moderation.muted');
      assert.deepEqual(muted, { by: 'Olga', canUnmute: false });
    });

    test('two moderators on two nodes change two settings at once: neither undoes the other', async () => {
      const { roomId, owner } = await meeting('Together');
      const mo = await join(b, { roomId, nickname: 'Mo' }, '10.0.12.40');
      await owner.client.nextNotification('room.peerJoined', (d) => d.peer.id === mo.id);
      await owner.client.request('moderation.setRole', { peerId: mo.id, role: 'moderator' });
      await mo.client.nextNotification('room.peerUpdated', (d) => d.peer.role === 'moderator');
      await Promise.all([
        owner.client.request('moderation.settings', { locked: true }),
        mo.client.request('moderation.settings', { moderatorsUnmute: true }),
      ]);
      for (const who of [owner, mo]) {
        await who.client.nextNotification(
          'moderation.settings',
          (d) => d.settings.locked && d.settings.moderatorsUnmute,
        );
      }
      assert.equal(await rejectCode(join(a, { roomId, nickname: 'Lou' })), 'ROOM_LOCKED');
      // A stored setting turned on through A and off through B: the store ends up off.
      await owner.client.request('moderation.settings', { waitingRoom: true });
      await mo.client.request('moderation.settings', { waitingRoom: false });
      const stored = (await a.app.tutti.stores.rooms.list()).find((r) => r.id === roomId);
      assert.deepEqual(stored?.settings, {
        waitingRoom: false,
        moderatorsUnmute: true,
        signedInOnly: false,
      });
    });

    test('a bar set on the removed person’s node keeps them out through the other node', async () => {
      const { roomId, owner } = await meeting('Bars');
      const bea = await join(b, { roomId, nickname: 'Bea' }, '10.0.12.7');
      await owner.client.nextNotification('room.peerJoined', (d) => d.peer.id === bea.id);
      await owner.client.request('moderation.remove', { peerId: bea.id, ban: true });
      const removed = await bea.client.nextNotification('moderation.removed');
      assert.deepEqual(removed, { by: 'Olga', banned: true });
      assert.equal(await rejectCode(join(a, { roomId, nickname: 'Bea' }, '10.0.12.7')), 'BANNED');
      assert.equal(await rejectCode(join(b, { roomId, nickname: 'Bea' }, '10.0.12.7')), 'BANNED');
      // Someone else from another address still gets in.
      await join(a, { roomId, nickname: 'Other' }, '10.0.12.8');
    });

    test('people waiting on node B are listed to node A’s moderator, admitted or denied from there', async () => {
      const { roomId, owner } = await meeting('Lobby');
      const ben = await join(b, { roomId, nickname: 'Ben' }, '10.0.12.20');
      await owner.client.nextNotification('room.peerJoined', (d) => d.peer.id === ben.id);
      await owner.client.request('moderation.settings', { waitingRoom: true });
      const wes = await connect(b, '10.0.12.21');
      assert.equal(
        await rejectCode(wes.request('room.join', { roomId, nickname: 'Wes' })),
        'WAITING',
      );
      const listed = await owner.client.nextNotification('moderation.waiting', (d) =>
        d.waiting.some((p) => p.nickname === 'Wes'),
      );
      const wesId = listed.waiting.find((p) => p.nickname === 'Wes')!.id;
      const dee = await connect(b, '10.0.12.22');
      assert.equal(
        await rejectCode(dee.request('room.join', { roomId, nickname: 'Dee' })),
        'WAITING',
      );
      const both = await owner.client.nextNotification(
        'moderation.waiting',
        (d) => d.waiting.length === 2,
      );
      const deeId = both.waiting.find((p) => p.nickname === 'Dee')!.id;
      // A moderator made on node B sees the cluster's list there.
      await owner.client.request('moderation.setRole', { peerId: ben.id, role: 'moderator' });
      const atBen = await ben.client.nextNotification(
        'moderation.waiting',
        (d) => d.waiting.length === 2,
      );
      assert.deepEqual(atBen.waiting.map((p) => p.nickname).sort(), ['Dee', 'Wes']);
      // Node A cannot decide in the name of Ben, a moderator who sits on node B.
      const forged = a.app.tutti.cluster.rpc.request(b.nodeId, 'moderation.door', {
        roomId,
        actorId: ben.id,
        waitingId: wesId,
        decision: 'admit',
      });
      await assert.rejects(forged, (err: { code?: string }) => err.code === 'FORBIDDEN');
      await owner.client.request('moderation.admit', { waitingId: wesId });
      assert.deepEqual(await wes.nextNotification('moderation.admitted'), { roomId });
      const in1 = await wes.request('room.join', { roomId, nickname: 'Wes' });
      assert.equal(in1.self.nickname, 'Wes');
      await owner.client.nextNotification('room.peerJoined', (d) => d.peer.nickname === 'Wes');
      await owner.client.request('moderation.deny', { waitingId: deeId });
      assert.deepEqual(await dee.nextNotification('moderation.denied'), { roomId });
      assert.equal(
        await rejectCode(dee.request('room.join', { roomId, nickname: 'Dee' })),
        'FORBIDDEN',
      );
      await owner.client.nextNotification(
        'moderation.waiting',
        (d) => !d.waiting.some((p) => p.id === wesId || p.id === deeId),
      );
      // Turning the waiting room off on A lets in whoever still waits on B.
      const zoe = await connect(b, '10.0.12.24');
      assert.equal(
        await rejectCode(zoe.request('room.join', { roomId, nickname: 'Zoe' })),
        'WAITING',
      );
      await owner.client.nextNotification('moderation.waiting', (d) =>
        d.waiting.some((p) => p.nickname === 'Zoe'),
      );
      await owner.client.request('moderation.settings', { waitingRoom: false });
      assert.deepEqual(await zoe.nextNotification('moderation.admitted'), { roomId });
      await zoe.request('room.join', { roomId, nickname: 'Zoe' });
    });

    test('the admin API on node A mutes and removes a member on node B, with the moderator notices', async () => {
      const { roomId, owner } = await meeting('Admin');
      const ben = await join(b, { roomId, nickname: 'Ben' }, '10.0.12.50');
      await owner.client.nextNotification('room.peerJoined', (d) => d.peer.id === ben.id);
      const key = await new ApiKeys(a.app.tutti.stores.auth).create(`cluster-${variant}`);
      const admin = (method: string, path: string) =>
        fetch(`${a.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${key.id}:${key.secret}` },
          signal: AbortSignal.timeout(10_000),
        });
      const people = `/api/admin/rooms/${roomId}/participants`;
      // The list is the room's, cluster-wide: Ben (on B) is in A's answer.
      const listed = (await (await admin('GET', people)).json()) as { participants: PeerInfo[] };
      assert.deepEqual(listed.participants.map((p) => p.id).sort(), [owner.id, ben.id].sort());
      const muted = await admin('POST', `${people}/${ben.id}/mute`);
      assert.equal(muted.status, 200);
      assert.deepEqual(await muted.json(), { paused: [] }); // No mic: nothing to pause.
      assert.deepEqual(await ben.client.nextNotification('moderation.muted'), {
        by: 'admin',
        canUnmute: true,
      });
      assert.equal((await admin('DELETE', `${people}/${ben.id}`)).status, 204);
      assert.deepEqual(await ben.client.nextNotification('moderation.removed'), {
        by: 'admin',
        banned: false,
      });
      await owner.client.nextNotification('room.peerLeft', (d) => d.peerId === ben.id);
      assert.equal((await admin('DELETE', `${people}/${ben.id}`)).status, 404);
    });

    test('ending the meeting on node A takes out the members and the waiting people on node B', async () => {
      const { roomId, owner } = await meeting('End');
      const ben = await join(b, { roomId, nickname: 'Ben' });
      const cid = await join(a, { roomId, nickname: 'Cid' });
      await owner.client.request('moderation.settings', { waitingRoom: true });
      const wes = await connect(b, '10.0.12.31');
      assert.equal(
        await rejectCode(wes.request('room.join', { roomId, nickname: 'Wes' })),
        'WAITING',
      );
      await owner.client.nextNotification('moderation.waiting', (d) => d.waiting.length === 1);
      await owner.client.request('moderation.end', {});
      for (const c of [ben.client, cid.client, wes]) {
        assert.deepEqual(await c.nextNotification('moderation.ended'), { by: 'Olga' });
      }
      assert.equal(await rejectCode(ben.client.request('chat.send', { text: 'hi' })), 'NOT_JOINED');
      // Nobody is left anywhere; the room stays.
      let count = -1;
      for (let i = 0; i < 50 && count !== 0; i++) {
        const res = await fetch(`${b.url}/api/rooms/${roomId}`, {
          signal: AbortSignal.timeout(5000),
        });
        count = ((await res.json()) as { room: { peers: number } }).room.peers;
        if (count !== 0) await sleep(100);
      }
      assert.equal(count, 0);
    });
  });
}

suite('in process', async () => {
  const env = await inProcessCluster(2, {
    tag: 'moderation',
    overrides: OVERRIDES,
    nodePrefix: `modx-${process.pid}-`,
  });
  return { nodes: env.apps.nodes, close: env.close };
});

suite('Redis + PostgreSQL', async () => {
  const nodePrefix = `modr-${process.pid}-`;
  const env = await redisPostgresCluster(2, {
    tag: 'moderation',
    overrides: OVERRIDES,
    nodePrefix,
  });
  return { nodes: env.apps.nodes, close: env.close };
});
