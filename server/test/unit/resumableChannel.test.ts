import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PreparedNotification } from '../../src/rooms/ports.ts';
import { ResumableChannel, type SocketChannel } from '../../src/transport/ResumableChannel.ts';

/** A socket side that records what reaches it. */
function fakeSocket(id: string) {
  const frames: string[] = [];
  const requests: string[] = [];
  let closed = false;
  const socket: SocketChannel = {
    id,
    ip: `10.0.0.${id.length}`,
    get closed() {
      return closed;
    },
    notify: async (method) => void frames.push(method),
    notifyPrepared: async (p: PreparedNotification) => void frames.push(p.method),
    request: (async (method: string) => {
      requests.push(method);
      return {};
    }) as SocketChannel['request'],
    close: () => void (closed = true),
  };
  return { socket, frames, requests, isClosed: () => closed };
}

function channel(maxBufferedBytes = 10_000) {
  const first = fakeSocket('first');
  const finished: string[] = [];
  const ch = new ResumableChannel(first.socket, {
    maxBufferedBytes,
    onFinished: (c) => finished.push(c.id),
  });
  return { ch, first, finished };
}

const consumer = {
  id: 'c1',
  producerId: 'p1',
  peerId: 'x',
  kind: 'video' as const,
  source: 'camera' as const,
  rtpParameters: { codecs: [] },
  type: 'simulcast' as const,
  producerPaused: false,
};

test('resumable channel: frames and server requests while detached reach the next socket, in order', async () => {
  const { ch, first, finished } = channel();
  await ch.notify('room.peerLeft', { peerId: 'a', nickname: 'A' });
  assert.deepEqual(first.frames, ['room.peerLeft']);
  ch.detach();
  assert.equal(ch.closed, false, 'a detached member is still open');
  await ch.notify('room.peerJoined', {
    peer: {
      id: 'b',
      nickname: 'B',
      mic: 'none',
      camera: 'none',
      screen: false,
      joinedAt: 1,
      role: 'participant',
    },
  });
  await ch.notify('chat.message', {
    message: {
      id: 'm',
      seq: 1,
      roomId: 'r',
      from: { peerId: 'b', nickname: 'B' },
      text: 'hi',
      createdAt: 1,
    },
  });
  const asked = ch.request('media.newConsumer', consumer);
  // The next socket arrives as a channel of its own and is adopted.
  const next = fakeSocket('second');
  const fresh = new ResumableChannel(next.socket, {
    maxBufferedBytes: 10_000,
    onFinished: (c) => finished.push(c.id),
  });
  ch.adopt(fresh);
  await asked;
  assert.deepEqual(next.frames, ['room.peerJoined', 'chat.message'], 'replayed once, in order');
  assert.deepEqual(next.requests, ['media.newConsumer'], 'the waiting request went out');
  assert.equal(ch.id, 'first', 'the member keeps its id');
  assert.equal(ch.ip, '10.0.0.6', 'the new socket’s address');
  assert.equal(fresh.current, ch, 'the new socket’s requests act as the member');
  assert.deepEqual(finished, ['second'], 'only the adopted shell is finished');
  assert.equal(next.isClosed(), false);
});

test('resumable channel: adopting over a socket still attached closes it; a backlog past the bound ends the member', async () => {
  const { ch, first, finished } = channel(200);
  const next = fakeSocket('second');
  ch.adopt(new ResumableChannel(next.socket, { maxBufferedBytes: 200, onFinished: () => {} }));
  assert.equal(first.isClosed(), true, 'the half-open socket is closed');
  assert.equal(ch.carries(first.socket), false);
  ch.detach();
  const asked = ch.request('media.newConsumer', consumer);
  for (let i = 0; i < 10; i++) await ch.notify('room.peerLeft', { peerId: `p${i}`, nickname: 'N' });
  assert.equal(ch.closed, true, 'over 200 bytes kept: the membership ends');
  assert.deepEqual(finished, ['first']);
  await assert.rejects(asked, /connection closed/);
  ch.close(); // idempotent
  assert.deepEqual(finished, ['first']);
});

test('resumable channel: close() of a detached member finishes it at once; of an attached one via its socket', () => {
  const a = channel();
  a.ch.detach();
  a.ch.close();
  assert.deepEqual(a.finished, ['first']);
  const b = channel();
  b.ch.close();
  assert.equal(b.first.isClosed(), true);
  assert.equal(b.ch.closing, true, 'the socket close that follows is final, not a blip');
  assert.deepEqual(b.finished, [], 'finished when its socket reports the close');
});

test('resumable channel: a server request cut off with its socket is asked again on the next one', async () => {
  const first = fakeSocket('first');
  let fail!: (err: Error) => void;
  first.socket.request = (() =>
    new Promise((_, reject) => (fail = reject))) as SocketChannel['request'];
  const ch = new ResumableChannel(first.socket, { maxBufferedBytes: 10_000, onFinished: () => {} });
  const asked = ch.request('media.newConsumer', consumer);
  ch.detach(); // the socket dropped…
  fail(new Error('peer closed')); // …and protoo failed what was in flight on it
  const next = fakeSocket('second');
  await new Promise((r) => setImmediate(r));
  ch.adopt(new ResumableChannel(next.socket, { maxBufferedBytes: 10_000, onFinished: () => {} }));
  await asked;
  assert.deepEqual(next.requests, ['media.newConsumer']);
  // A failure on the socket still attached is the client's answer: no retry.
  next.socket.request = (async () => {
    throw new Error('refused');
  }) as SocketChannel['request'];
  await assert.rejects(ch.request('media.newConsumer', consumer), /refused/);
});
