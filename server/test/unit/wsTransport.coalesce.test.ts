import { test } from 'node:test';
import assert from 'node:assert/strict';
import protoo from 'protoo-server';
import { prepareNotification } from '../../src/rooms/ports.ts';
import { ProtooChannel } from '../../src/transport/ProtooChannel.ts';
import { ResumableChannel } from '../../src/transport/ResumableChannel.ts';
import { WsTransport, type WsLike } from '../../src/transport/WsTransport.ts';
import { WriteCoalescer } from '../../src/transport/writeCoalescer.ts';
import { wsSocketPairs } from '../helpers/wsSocketPairs.ts';

// A busy socket's frames are held for a moment and leave in one write (issue 12); an idle
// socket's leave at the end of their tick. Real ws sockets on loopback; the coalescer's clock
// is the test's, so "busy" and "idle" do not depend on how fast the box is.

const HOST = process.env.TUTTI_TEST_HOST ?? '127.0.0.1';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const endOfTick = () => new Promise<void>((resolve) => setImmediate(resolve));

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** The test's clock for the coalescer (ms). */
function clock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

const LIMITS = { maxBufferedBytes: 4 << 20, maxResponseBytes: 1 << 20 };
const chat = (n: number, text = `message ${n}`) =>
  prepareNotification('chat.message', {
    message: {
      id: `m${n}`,
      seq: n,
      roomId: 'r',
      from: { peerId: 'a', nickname: 'A' },
      text,
      createdAt: n,
    },
  });
const notification = (method: string) => ({ notification: true, method, data: {} });

/**
 * `n` ws socket pairs on HOST whose server ends are WsTransports writing through one
 * coalescer on the test's clock (`time`).
 */
async function coalescedPairs(n: number, hold: { holdMs: number; busyFramesPerSecond: number }) {
  const { list, close } = await wsSocketPairs(n, HOST);
  const time = clock();
  const coalescer = new WriteCoalescer({ ...hold, now: time.now });
  const transports = list.map(
    (p) => new WsTransport(p.server as unknown as WsLike, 'WS', () => {}, LIMITS, coalescer),
  );
  return { list, close, time, transports };
}

test('coalescing: an idle socket writes at the end of its tick; a busy one holds its frames for one write, in order with responses and other notifications', async () => {
  const { list, close, time, transports } = await coalescedPairs(1, {
    holdMs: 60_000,
    busyFramesPerSecond: 0,
  });
  const [p, transport] = [list[0]!, transports[0]!];
  try {
    // Idle (it never wrote): at the end of this tick, however long the hold.
    void transport.sendPrepared(chat(1));
    assert.equal(p.writes(), 0, 'corked for the rest of the tick');
    await endOfTick();
    assert.equal(p.writes(), 1, 'an idle socket does not wait for the hold');

    // Busy (it wrote just now): held, whatever goes through it, across ticks.
    time.advance(5);
    const expected = [chat(1).text];
    for (let i = 2; i <= 6; i++) {
      void transport.sendPrepared(chat(i));
      void transport.send(notification(`other.${i}`)); // a protoo notification (ws frames it)
      void transport.sendRaw(JSON.stringify(notification(`raw.${i}`)));
      expected.push(
        chat(i).text,
        JSON.stringify(notification(`other.${i}`)),
        JSON.stringify(notification(`raw.${i}`)),
      );
      await endOfTick();
    }
    // A big frame (a 64-bit length) in the middle is not split from its header or reordered.
    void transport.sendPrepared(chat(7, 'ㅎ'.repeat(30_000)));
    expected.push(chat(7, 'ㅎ'.repeat(30_000)).text);
    await endOfTick();
    assert.equal(p.writes(), 1, 'nothing written while held');
    assert.equal(p.got.length, 1);

    // An answer is waited on: it goes at the end of its tick, taking what was held before it.
    const answered = transport.send({ response: true, id: 7, ok: true, data: {} });
    expected.push('{"response":true,"id":7,"ok":true,"data":{}}');
    await answered;
    assert.equal(p.writes(), 2, 'everything held, and the answer, in one write');
    await until(() => p.got.length === expected.length, 'every frame at the client');
    assert.deepEqual(p.got, expected);

    // Long after its last write the socket is idle again: at once.
    time.advance(60_000);
    void transport.sendPrepared(chat(8));
    await endOfTick();
    assert.equal(p.writes(), 3);
    await until(() => p.got.length === expected.length + 1, 'the idle message');
  } finally {
    await close();
  }
});

test('coalescing: a busy socket is held only while the server hands over frames at the busy rate', async () => {
  const { list, close, time, transports } = await coalescedPairs(1, {
    holdMs: 60_000,
    busyFramesPerSecond: 1000,
  });
  const [p, transport] = [list[0]!, transports[0]!];
  try {
    void transport.sendPrepared(chat(1));
    await endOfTick();
    time.advance(5);
    void transport.sendPrepared(chat(2)); // the socket is busy, the server is not: at once
    await endOfTick();
    assert.equal(p.writes(), 2);
    for (let i = 3; i < 403; i++) void transport.sendPrepared(chat(i)); // 400 frames, one tick
    await endOfTick();
    assert.equal(p.writes(), 3, "one tick's frames, one write");
    time.advance(250); // 400 frames in 250 ms: 1 600 a second, over the busy rate
    void transport.sendPrepared(chat(403));
    await endOfTick();
    assert.equal(p.writes(), 3, 'held on a busy server');
    await transport.send({ response: true, id: 1, ok: true, data: {} });
    assert.equal(p.writes(), 4);
    for (let i = 0; i < 150; i++) void transport.sendRaw(`{"n":${i}}`); // 600 a second
    await transport.send({ response: true, id: 2, ok: true, data: {} });
    assert.equal(p.writes(), 5);
    time.advance(250);
    void transport.sendPrepared(chat(404)); // under the busy rate, over half of it: still busy
    await endOfTick();
    assert.equal(p.writes(), 5, 'still held');
    await transport.send({ response: true, id: 3, ok: true, data: {} });
    assert.equal(p.writes(), 6);
    time.advance(600); // a quiet spell: not busy any more
    void transport.sendPrepared(chat(405));
    await endOfTick();
    assert.equal(p.writes(), 7, 'at once again');
    await until(() => p.got.length === 558, 'every frame');
    assert.deepEqual(
      p.got.filter((t) => t.startsWith('{"notification"')),
      Array.from({ length: 405 }, (_, i) => chat(i + 1).text),
    );
    assert.equal(p.got.filter((t) => t.startsWith('{"n"')).length, 150);
  } finally {
    await close();
  }
});

test('coalescing: held frames go out when the hold ends, one write per socket for many sockets, none lost', async () => {
  const { list, close, time, transports } = await coalescedPairs(5, {
    holdMs: 30,
    busyFramesPerSecond: 0,
  });
  try {
    for (const t of transports) void t.sendPrepared(chat(1));
    await endOfTick();
    assert.deepEqual(
      list.map((p) => p.writes()),
      [1, 1, 1, 1, 1],
    );
    time.advance(1); // busy now: due 29 ms (test clock) from here
    for (let i = 2; i <= 20; i++) {
      for (const t of transports) void t.sendPrepared(chat(i));
      await endOfTick();
    }
    assert.deepEqual(
      list.map((p) => p.writes()),
      [1, 1, 1, 1, 1],
      'held',
    );
    // The real timer fires (the hold's length in real ms); then one write each.
    await until(() => list.every((p) => p.writes() === 2), 'the held batch to be written');
    const all = Array.from({ length: 20 }, (_, i) => chat(i + 1).text);
    await until(() => list.every((p) => p.got.length === 20), 'every frame at every client');
    for (const p of list) assert.deepEqual(p.got, all);
  } finally {
    await close();
  }
});

test('coalescing: a close mid-hold sends what was held, then the close frame; a cut socket just drops it', async () => {
  const { list, close, time, transports } = await coalescedPairs(2, {
    holdMs: 60_000,
    busyFramesPerSecond: 0,
  });
  const [a, b] = transports as [WsTransport, WsTransport];
  try {
    void a.sendPrepared(chat(1));
    void b.sendPrepared(chat(1));
    await endOfTick();
    time.advance(1);
    void a.sendPrepared(chat(2));
    void b.sendPrepared(chat(2));
    await endOfTick();
    assert.equal(list[0]!.got.length + list[1]!.got.length <= 2, true);

    a.close(); // held frames, then the close frame, at the end of this tick
    assert.equal(await list[0]!.clientClosed, 4000);
    assert.deepEqual(list[0]!.got, [chat(1).text, chat(2).text]);

    list[1]!.server.terminate(); // a cut (or a dead peer): what was held is dropped with it
    await until(() => b.closed, 'the cut transport to close');
    await assert.rejects(b.sendPrepared(chat(3)), /transport closed/);
    time.advance(60_000);
    await sleep(20);
    assert.equal(b.closed, true);
  } finally {
    await close();
  }
});

test('coalescing and resume: a replaced socket sends what it held before closing; frames kept while detached reach the next socket at once, in order', async () => {
  const { list, close, time, transports } = await coalescedPairs(3, {
    holdMs: 60_000,
    busyFramesPerSecond: 0,
  });
  const registry = new protoo.Room();
  const channels = transports.map((transport, i) => {
    const signal = registry.createPeer(`peer-${i}`, transport);
    return new ProtooChannel(signal, HOST, transport);
  });
  const finished: string[] = [];
  const opts = {
    maxBufferedBytes: 1 << 20,
    onFinished: (c: ResumableChannel) => void finished.push(c.id),
  };
  const member = new ResumableChannel(channels[0]!, opts);
  try {
    void member.notifyPrepared(chat(1));
    await endOfTick();
    time.advance(1);
    void member.notifyPrepared(chat(2)); // held on the first socket (busy)
    void member.notify('room.peerLeft', { peerId: 'x', nickname: 'X' });
    await endOfTick();
    assert.equal(list[0]!.writes(), 1, 'held');

    // session.resume on a second socket while the first is still attached (half-open): the
    // first is closed, after what it held.
    member.adopt(new ResumableChannel(channels[1]!, opts));
    assert.equal(await list[0]!.clientClosed, 4000);
    assert.equal(list[0]!.got.length, 3);
    assert.deepEqual(list[0]!.got.slice(0, 2), [chat(1).text, chat(2).text]);
    assert.match(list[0]!.got[2]!, /"method":"room\.peerLeft"/);

    // On the second socket: idle, so at once; then busy, and it drops with a frame held
    // (lost with the socket, as anything in flight is: the client re-reads the chat page).
    void member.notifyPrepared(chat(3));
    await until(() => list[1]!.got.length === 1, 'the first frame on the new socket');
    time.advance(1);
    void member.notifyPrepared(chat(4));
    await endOfTick();
    list[1]!.client.terminate();
    await until(() => channels[1]!.closed, 'the second socket to close');
    member.detach(); // what the sessions do for a dropped socket that may come back
    void member.notifyPrepared(chat(5));
    void member.notify('room.peerLeft', { peerId: 'y', nickname: 'Y' });
    void member.notifyPrepared(chat(6));

    // The resume on a third socket (idle): the kept frames leave at the end of that tick.
    member.adopt(new ResumableChannel(channels[2]!, opts));
    await endOfTick();
    assert.equal(list[2]!.writes(), 1, 'the replay in one write, not held');
    await until(() => list[2]!.got.length === 3, 'the kept frames on the third socket');
    assert.equal(list[2]!.got[0], chat(5).text);
    assert.match(list[2]!.got[1]!, /"method":"room\.peerLeft".*"peerId":"y"/);
    assert.equal(list[2]!.got[2], chat(6).text);
    assert.deepEqual(finished, ['peer-1', 'peer-2']);
  } finally {
    await close();
  }
});
