import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { PeerInfo } from '@tutti/protocol';
import { TEST_REDIS_URL as REDIS } from '../../../test/helpers/redisKeys.ts';
import { signalingMembers } from '../../../test/helpers/signalingMembers.ts';
import type { ClusterApp } from '../helpers/clusterApps.ts';
import {
  inProcessCluster,
  redisPostgresCluster,
  type ClusterEnv as Env,
} from '../helpers/clusterEnvs.ts';
import { hashPassword } from '../../src/rooms/security.ts';
import { joinBot, rejectCode, sleep } from './bot.ts';

// Three nodes of one cluster in this process: members on different nodes see each other
// join, mute and leave, chat and private messages cross, seats are cluster-wide, room
// records are shared, a dead node's members leave, garbage on the bus changes nothing.
// Once on the in-process hub (records in one SQLite file), once on Redis + PostgreSQL.

const members = signalingMembers();
const connect = (node: ClusterApp) => members.connect(node);
const join = (node: ClusterApp, roomId: string, nickname: string, password?: string) =>
  members.join(node, roomId, nickname, password ? { password } : {});
const createRoom = (node: ClusterApp, name: string, capacity?: number) =>
  members.createRoom(node, name, capacity ? { capacity } : {});
const names = (peers: PeerInfo[]) => peers.map((p) => p.nickname).sort();

function suite(variant: string, setup: () => Promise<Env>): void {
  describe(`cluster presence (${variant})`, () => {
    let env: Env;
    let a: ClusterApp, b: ClusterApp, c: ClusterApp;
    before(async () => {
      env = await setup();
      [a, b, c] = env.apps.nodes as [ClusterApp, ClusterApp, ClusterApp];
    });
    after(async () => {
      members.closeAll();
      await env?.close();
    });

    test('join, mute and leave cross nodes; the lobby everywhere counts everyone', async () => {
      const { roomId } = await createRoom(a, `Presence ${variant}`);
      const lobby = await connect(c);
      await lobby.request('lobby.subscribe', {});
      const ann = await join(a, roomId, 'Ann');
      const ben = await join(b, roomId, 'Ben'); // b learns of the room from the store
      assert.deepEqual(names(ben.answer.peers), ['Ann']);
      assert.equal(ben.answer.room.peers, 2);
      const joined = await ann.client.nextNotification('room.peerJoined');
      assert.equal(joined.peer.nickname, 'Ben');
      await lobby.nextNotification('lobby.rooms', ({ rooms }) =>
        rooms.some((r) => r.id === roomId && r.peers === 2),
      );
      // A nickname taken on another node is de-duplicated.
      const ann2 = await join(c, roomId, 'ann');
      assert.notEqual(ann2.answer.self.nickname.toLowerCase(), 'ann');
      assert.deepEqual(names(ann2.answer.peers), ['Ann', 'Ben']);
      // Mute states: a mic on node A is seen on node B.
      const bot = await joinBot(a.wsUrl, roomId, 'Mic');
      members.track(bot.client);
      await bot.setupMedia();
      await bot.produce('mic');
      await ben.client.nextNotification(
        'room.peerUpdated',
        (d) => d.peer.nickname === 'Mic' && d.peer.mic === 'on',
      );
      ben.client.close();
      const left = await ann.client.nextNotification('room.peerLeft', (d) => d.peerId === ben.id);
      assert.equal(left.nickname, 'Ben');
      // The private-message path and the HTTP view of the room agree on the count.
      const res = await fetch(`${c.url}/api/rooms/${roomId}`);
      assert.equal(((await res.json()) as { room: { peers: number } }).room.peers, 3);
    });

    test('a moderator on one node mutes, promotes and removes a member on another', async () => {
      const { roomId, ownerSecret } = await createRoom(a, `Moderation ${variant}`);
      const ownerClient = await connect(a);
      const owner = await ownerClient.request('room.join', {
        roomId,
        nickname: 'Olga',
        ownerSecret,
      });
      assert.equal(owner.self.role, 'owner');
      const ben = await join(b, roomId, 'Ben');
      const cid = await join(c, roomId, 'Cid');
      // A participant (on c) may not act on Ben (on b): refused by Ben's node.
      assert.equal(
        await rejectCode(cid.client.request('moderation.mute', { peerId: ben.id })),
        'FORBIDDEN',
      );
      await ownerClient.request('moderation.mute', { peerId: ben.id });
      const muted = await ben.client.nextNotification('moderation.muted');
      assert.equal(muted.by, 'Olga');
      // A node cannot act for another node's member: c relaying as Olga (who sits on a).
      const forged = c.app.tutti.cluster.rpc.request(b.nodeId, 'moderation.relay', {
        roomId,
        actorId: owner.self.id,
        targetId: ben.id,
        action: { kind: 'remove', ban: true },
      });
      await assert.rejects(forged, (err: { code?: string }) => err.code === 'FORBIDDEN');
      await ownerClient.request('moderation.setRole', { peerId: cid.id, role: 'moderator' });
      await ownerClient.nextNotification(
        'room.peerUpdated',
        (d) => d.peer.id === cid.id && d.peer.role === 'moderator',
      );
      // Now a moderator (as its own node announced it), Cid may act on Ben across nodes.
      await ben.client.nextNotification(
        'room.peerUpdated',
        (d) => d.peer.id === cid.id && d.peer.role === 'moderator',
      );
      await cid.client.request('moderation.remove', { peerId: ben.id });
      const removed = await ben.client.nextNotification('moderation.removed');
      assert.equal(removed.by, 'Cid');
      await ownerClient.nextNotification('room.peerLeft', (d) => d.peerId === ben.id);
    });

    test('chat and private messages cross nodes', async () => {
      const { roomId } = await createRoom(a, `Chat ${variant}`);
      const ann = await join(a, roomId, 'Ann');
      const ben = await join(b, roomId, 'Ben');
      const cid = await join(c, roomId, 'Cid');
      await ann.client.request('chat.send', { text: 'hello all' });
      for (const m of [ben, cid]) {
        const got = await m.client.nextNotification('chat.message');
        assert.equal(got.message.text, 'hello all');
      }
      const pm = await ann.client.request('chat.send', { text: 'just you', to: ben.id });
      assert.equal(pm.message.to?.nickname, 'Ben');
      const atBen = await ben.client.nextNotification(
        'chat.message',
        (d) => d.message.to !== undefined,
      );
      assert.equal(atBen.message.text, 'just you');
      await sleep(300);
      assert.ok(
        !cid.client.notifications.some(
          (n) =>
            n.method === 'chat.message' &&
            (n.data as { message: { text: string } }).message.text === 'just you',
        ),
        'a private message reaches nobody else',
      );
    });

    test('concurrent joins through two nodes never pass the capacity', async () => {
      const { roomId } = await createRoom(a, `Full ${variant}`, 3);
      const tries = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => join(i % 2 ? a : b, roomId, `P${i}`)),
      );
      const ok = tries.filter((t) => t.status === 'fulfilled');
      assert.equal(ok.length, 3);
      for (const t of tries) {
        if (t.status === 'rejected') assert.match(String(t.reason), /ROOM_FULL/);
      }
      // A seat freed on one node can be taken through another.
      (ok[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof join>>>).value.client.close();
      let again: Awaited<ReturnType<typeof join>> | undefined;
      for (let i = 0; i < 50 && !again; i++) {
        again = await join(c, roomId, 'Late').catch(async () => void (await sleep(100)));
      }
      assert.ok(again, 'the freed seat is taken through a third node');
    });

    test('one nickname wished through two nodes at once: everyone gets a different one', async () => {
      const { roomId } = await createRoom(a, `Names ${variant}`);
      const joins = await Promise.all(
        Array.from({ length: 6 }, (_, i) => join(i % 2 ? a : b, roomId, 'Zed')),
      );
      const got = joins.map((j) => j.answer.self.nickname.toLowerCase());
      assert.equal(new Set(got).size, 6, `nicknames: ${got.join(', ')}`);
      const zed = joins.find((j) => j.answer.self.nickname === 'Zed');
      assert.ok(zed, 'one of them got the wish itself');
      zed.client.close();
      // Once its holder left, the name is free again, through any node.
      let again = '';
      for (let i = 0; i < 50 && again !== 'Zed'; i++) {
        const j = await join(c, roomId, 'Zed');
        again = j.answer.self.nickname;
        if (again !== 'Zed') {
          j.client.close();
          await sleep(100);
        }
      }
      assert.equal(again, 'Zed');
    });

    test('renames, passwords and deletions on one node hold on the others', async () => {
      const { roomId, ownerSecret } = await createRoom(a, `Records ${variant}`);
      const ben = await join(b, roomId, 'Ben');
      const patch = await fetch(`${a.url}/api/rooms/${roomId}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', 'x-owner-secret': ownerSecret },
        body: JSON.stringify({ name: `Renamed ${variant}`, password: 'sesame-42' }),
      });
      assert.equal(patch.status, 200);
      const updated = await ben.client.nextNotification('room.updated');
      assert.equal(updated.room.name, `Renamed ${variant}`);
      assert.equal(updated.room.locked, true);
      assert.equal(await rejectCode(join(c, roomId, 'NoPw')), 'BAD_PASSWORD');
      await join(c, roomId, 'WithPw', 'sesame-42');
      const del = await fetch(`${a.url}/api/rooms/${roomId}`, {
        method: 'DELETE',
        headers: { 'x-owner-secret': ownerSecret },
      });
      assert.equal(del.status, 204);
      const closed = await ben.client.nextNotification('room.closed');
      assert.equal(closed.reason, 'deleted');
      assert.equal(await rejectCode(join(b, roomId, 'After')), 'ROOM_NOT_FOUND');
    });

    test('a password set on one node holds on another before its announcement arrives', async () => {
      const { roomId } = await createRoom(a, `Quiet ${variant}`);
      await join(c, roomId, 'Cid'); // c holds a copy of the record, without a password
      // Written to the shared store as a's PATCH does, but with no room.changed on the bus:
      // c can only know from the store itself.
      const stored = await a.app.tutti.stores.rooms.get(roomId);
      assert.ok(stored);
      const passwordHash = await hashPassword('sesame-43');
      await a.app.tutti.stores.rooms.update({ ...stored, passwordHash });
      assert.equal(c.app.tutti.rooms.get(roomId)?.record.passwordHash, null);
      assert.equal(await rejectCode(join(c, roomId, 'NoPw')), 'BAD_PASSWORD');
      await join(c, roomId, 'WithPw', 'sesame-43');
    });

    test('idle cleanup keeps a room whose members sit on another node', async () => {
      const { roomId } = await createRoom(a, `Idle ${variant}`);
      await join(a, roomId, 'Ann');
      const rooms = b.app.tutti.rooms;
      // Pretend b's copy has been empty for ages.
      rooms.get(roomId)?.setEmptySince(0);
      const deleted = await rooms.cleanup();
      assert.ok(!deleted.includes(roomId));
      assert.ok(rooms.get(roomId));
    });

    test('a node reaped while frozen comes back: its members and seats return', async (t) => {
      if (!env.hub) return t.skip('in process only (the hub can freeze a node)');
      const { roomId } = await createRoom(a, `Reaped ${variant}`);
      const ann = await join(a, roomId, 'Ann');
      const ben = await join(b, roomId, 'Ben');
      assert.deepEqual(names(ben.answer.peers), ['Ann']);
      env.hub.frozen.add(a.nodeId);
      await ben.client.nextNotification('room.peerLeft', (d) => d.peerId === ann.id, 10_000);
      env.hub.frozen.delete(a.nodeId); // Its next beat finds its entry gone: selfReinstated.
      await ben.client.nextNotification('room.peerJoined', (d) => d.peer.id === ann.id, 10_000);
      const spread = await b.app.tutti.cluster.placement.spread(roomId);
      assert.equal(spread.count, 2);
      assert.equal(spread.nodes[a.nodeId], 1);
    });

    test('a node that dies takes its members with it, within 10 s; the room stays joinable', async (t) => {
      if (!env.hub) return t.skip('the 3-process test kills a real node');
      const { roomId } = await createRoom(a, `Death ${variant}`);
      const ann = await join(a, roomId, 'Ann');
      const cid = await join(c, roomId, 'Cid');
      await ann.client.nextNotification('room.peerJoined', (d) => d.peer.id === cid.id);
      const start = Date.now();
      // Its heartbeats stop and its entry goes stale: as good as dead to the others.
      env.hub.frozen.add(c.nodeId);
      await c.app.tutti.cluster.registry.stop();
      await ann.client.nextNotification('room.peerLeft', (d) => d.peerId === cid.id, 10_000);
      assert.ok(Date.now() - start < 10_000);
      const ben = await join(b, roomId, 'Ben');
      assert.deepEqual(names(ben.answer.peers), ['Ann']);
      await c.stop();
    });

    test('garbage and forged bus messages are dropped; the nodes carry on', async (t) => {
      const { roomId } = await createRoom(a, `Garbage ${variant}`);
      const ann = await join(a, roomId, 'Ann');
      const forged = JSON.stringify({
        m: JSON.stringify({
          v: 1,
          from: 'intruder',
          event: {
            type: 'member.joined',
            roomId,
            peer: {
              id: 'x',
              nickname: 'Mallory',
              mic: 'none',
              camera: 'none',
              screen: false,
              joinedAt: 1,
            },
          },
        }),
        s: '0'.repeat(64),
      });
      const raw = [
        'not json',
        '{"m":1}',
        JSON.stringify({ m: '{}', s: 'zz' }),
        forged,
        'x'.repeat(300_000),
      ];
      if (env.hub) for (const r of raw) env.hub.inject('presence-bus', r);
      else {
        const redis = new Redis(REDIS);
        for (const r of raw) await redis.publish(`${a.config.cluster.redisPrefix}presence`, r);
        await redis.quit();
      }
      if (!env.hub && raw.length === 0) t.skip();
      await sleep(300);
      assert.ok(!ann.client.notifications.some((n) => n.method === 'room.peerJoined'));
      const ben = await join(b, roomId, 'Ben');
      assert.deepEqual(names(ben.answer.peers), ['Ann']);
    });
  });
}

suite('in process', () => inProcessCluster(3, { tag: 'presence' }));
suite('Redis + PostgreSQL', () => redisPostgresCluster(3, { tag: 'presence' }));
