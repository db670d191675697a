/**
 * The pieces of a membership resume across nodes (docs/reconnect.md) on their own: tokens
 * that name their node, the issuing side's handOver (single use, grace stopped), the new
 * side's carry (same id, the fresh socket, kept frames after the seat), presence's view of
 * a member that moved between nodes, and the nickname claim moving with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { TuttiError } from '@tutti/protocol';
import { LocalClusterHub } from '../../src/cluster/index.ts';
import { localNicknames } from '../../src/federation/nicknames.ts';
import type { Logger } from '../../src/kernel/log.ts';
import {
  prepareNotification,
  type MemberChannel,
  type PreparedNotification,
} from '../../src/rooms/ports.ts';
import { RemoteMembers } from '../../src/rooms/remoteMembers.ts';
import type { SocketChannel } from '../../src/transport/ResumableChannel.ts';
import { hashToken, ResumeSessions } from '../../src/transport/resume.ts';

const quiet = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

function fakeSocket(id: string) {
  const frames: string[] = [];
  let closed = false;
  const socket: SocketChannel = {
    id,
    ip: '10.0.0.1',
    get closed() {
      return closed;
    },
    notify: async (method) => void frames.push(method),
    notifyPrepared: async (p: PreparedNotification) => void frames.push(p.method),
    request: (async () => ({})) as SocketChannel['request'],
    close: () => void (closed = true),
  };
  return { socket, frames, isClosed: () => closed };
}

function sessions(nodeId: string, graceMs = 200) {
  const members = new Set<string>();
  const closed: string[] = [];
  const s = new ResumeSessions({
    nodeId,
    graceMs,
    maxBufferedBytes: 100_000,
    isMember: (ch: MemberChannel) => members.has(ch.id),
    onClosed: (ch) => {
      members.delete(ch.id);
      closed.push(ch.id);
    },
    log: quiet,
  });
  return { s, members, closed };
}

const peer = (id: string) => ({
  id,
  nickname: 'Ann',
  mic: 'none' as const,
  camera: 'none' as const,
  screen: false,
  joinedAt: 1,
  role: 'participant' as const,
});

test('resume tokens name the node that issued them', () => {
  const { s, members } = sessions('node-a.example:1');
  const ch = s.open(fakeSocket('m1').socket);
  members.add(ch.id);
  const token = s.issue(ch)!;
  assert.match(token, /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]+$/);
  assert.equal(ResumeSessions.issuer(token), 'node-a.example:1');
  assert.equal(ResumeSessions.issuer(Buffer.alloc(32, 1).toString('base64url')), undefined);
  assert.equal(s.holds(token), true);
  const other = sessions('node-b').s;
  assert.equal(other.holds(token), false, 'another node asks the issuer');
  s.close();
});

test('handOver spends the token, stops the grace; carry seats the member on a fresh socket', async () => {
  const a = sessions('a', 150);
  const first = fakeSocket('m1');
  const ch = a.s.open(first.socket);
  a.members.add(ch.id);
  const token = a.s.issue(ch)!;
  a.s.socketClosed(ch, first.socket, true); // Dropped: detached, the grace runs.
  void ch.notify('chat.message', {
    message: { id: 'x1', from: { peerId: 'o', nickname: 'O' }, text: 'hi', sentAt: 1 },
  } as never);
  const handed = a.s.handOver(hashToken(token));
  assert.equal(handed.id, 'm1');
  const kept = handed.takeKept();
  assert.deepEqual(
    kept.map((k) => k.method),
    ['chat.message'],
  );
  assert.throws(
    () => a.s.handOver(hashToken(token)),
    (err) => err instanceof TuttiError && err.code === 'RESUME_FAILED',
    'single use',
  );
  await sleep(300);
  assert.deepEqual(a.closed, [], 'the grace no longer ends it');
  handed.finish();
  assert.deepEqual(a.closed, ['m1']);

  // The new node: a fresh socket carries member m1 from now on.
  const b = sessions('b');
  const socket = fakeSocket('fresh');
  const fresh = b.s.open(socket.socket);
  const seated: string[] = [];
  const replay = [prepareNotification('room.peerLeft', { peerId: 'z', nickname: 'Z' })];
  const { channel, token: next } = b.s.carry(
    'm1',
    fresh,
    (c) => {
      seated.push(c.id);
      b.members.add(c.id);
      void c.notify('room.updated', { room: {} } as never);
    },
    replay,
    hashToken(token),
  );
  assert.equal(channel.id, 'm1');
  assert.deepEqual(seated, ['m1']);
  assert.equal(fresh.current, channel, 'the socket’s requests go to the member');
  assert.deepEqual(b.closed, ['fresh'], 'the fresh channel is done, not the member');
  assert.deepEqual(socket.frames, ['room.updated', 'room.peerLeft'], 'seated, then the replay');
  assert.equal(ResumeSessions.issuer(next), 'b');
  assert.equal(socket.isClosed(), false);
  b.s.close();
  a.s.close();
});

test('presence: a member moving between nodes is not new anywhere', () => {
  const remote = new RemoteMembers();
  assert.equal(remote.put('r', 'A', peer('p1')), true);
  assert.equal(remote.put('r', 'B', peer('p1')), false, 'moved, not joined');
  assert.equal(remote.count('r'), 1);
  assert.equal(remote.find('r', 'p1')?.nodeId, 'B');
  const { joined } = remote.replace('r', 'C', [peer('p1')]);
  assert.deepEqual(joined, [], 'a snapshot listing it elsewhere is no join either');
});

test('nickname claims move with the member, and only its own', async () => {
  const names = localNicknames(new LocalClusterHub());
  assert.equal(await names.claim('r', 'A', 'p1', ['Ann']), 'Ann');
  assert.equal(await names.move('r', 'A', 'B', 'p1', 'Ann'), true);
  assert.equal(await names.claim('r', 'C', 'p2', ['ann']), null, 'still taken');
  await names.release('r', 'A', 'p1', 'Ann');
  assert.equal(await names.claim('r', 'C', 'p2', ['ann']), null, 'A no longer holds it');
  assert.equal(await names.move('r', 'C', 'D', 'p2', 'Ann'), false, 'not p2’s to move');
  await names.release('r', 'B', 'p1', 'Ann');
  assert.equal(await names.claim('r', 'C', 'p2', ['ann']), 'ann');
});
