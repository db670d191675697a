import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ChatMessage } from '@tutti/protocol';
import { fitHistoryPage } from '../../src/chat/historyBudget.ts';
import { ConnectionsPerAddress } from '../../src/transport/addressLimit.ts';
import { Heartbeat } from '../../src/transport/heartbeat.ts';
import { WsTransport, type WsLike } from '../../src/transport/WsTransport.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class QueueingWs extends EventEmitter implements WsLike {
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  terminated = false;
  send(data: string, cb?: (err?: Error) => void): void {
    this.sent.push(data);
    this.bufferedAmount += Buffer.byteLength(data); // Nobody reads: it only grows.
    cb?.();
  }
  close(): void {
    this.readyState = 3;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
}

const limits = { maxBufferedBytes: 64 * 1024, maxResponseBytes: 16 * 1024 };

test('a socket whose queue passes maxBufferedBytes is terminated once; later sends reject', async () => {
  const ws = new QueueingWs();
  const transport = new WsTransport(ws, 'WS', () => {}, limits);
  const overflows: number[] = [];
  let closes = 0;
  transport.on('overflow', (bytes: number) => overflows.push(bytes));
  transport.on('close', () => closes++);
  const frame = { notification: true, method: 'x', data: { pad: 'p'.repeat(10_000) } };
  let sent = 0;
  for (let i = 0; i < 20; i++) {
    try {
      await transport.send(frame);
      sent++;
    } catch {
      // Cut.
    }
  }
  assert.ok(sent >= 6 && sent <= 8, `${sent} frames queued before the cut`);
  assert.equal(ws.terminated, true);
  assert.equal(transport.closed, true);
  assert.equal(overflows.length, 1);
  assert.ok(overflows[0]! > limits.maxBufferedBytes);
  assert.equal(closes, 1);
  await assert.rejects(transport.send(frame), /transport closed/);
});

test('a success response over maxResponseBytes goes out as PAYLOAD_TOO_LARGE; small answers and notifications as they are', async () => {
  const ws = new QueueingWs();
  const transport = new WsTransport(ws, 'WS', () => {}, limits);
  const oversized: number[] = [];
  transport.on('oversized', (bytes: number) => oversized.push(bytes));
  await transport.send({ response: true, id: 7, ok: true, data: { big: 'é'.repeat(9000) } });
  const capped = JSON.parse(ws.sent[0]!) as Record<string, unknown>;
  assert.equal(capped.id, 7);
  assert.equal(capped.ok, false);
  assert.equal(capped.errorCode, 413);
  assert.match(String(capped.errorReason), /^PAYLOAD_TOO_LARGE: /);
  assert.equal(oversized.length, 1);
  assert.ok(oversized[0]! > 18_000); // 'é' is two bytes: counted in bytes, not characters.
  await transport.send({ response: true, id: 8, ok: true, data: { small: 'x'.repeat(100) } });
  assert.equal((JSON.parse(ws.sent[1]!) as { ok: boolean }).ok, true);
  // Notifications are not answers: they keep their bytes (the queue bound covers them).
  await transport.send({ notification: true, method: 'n', data: { big: 'x'.repeat(20_000) } });
  assert.equal((JSON.parse(ws.sent[2]!) as { method: string }).method, 'n');
});

class PingedSocket extends EventEmitter {
  pings = 0;
  terminated = false;
  answer = true;
  ping(): void {
    this.pings++;
    if (this.answer) setImmediate(() => this.emit('pong'));
  }
  terminate(): void {
    this.terminated = true;
    this.emit('close');
  }
}

test('the heartbeat terminates a socket that missed a pong and keeps one that answers', async () => {
  const dead: unknown[] = [];
  const heartbeat = new Heartbeat(40, (s) => dead.push(s));
  const live = new PingedSocket();
  const mute = new PingedSocket();
  mute.answer = false;
  heartbeat.watch(live);
  heartbeat.watch(mute);
  await sleep(250);
  assert.equal(mute.terminated, true);
  assert.deepEqual(dead, [mute]);
  assert.equal(live.terminated, false);
  assert.ok(live.pings >= 3);
  assert.equal(heartbeat.size, 1);
  live.emit('close');
  assert.equal(heartbeat.size, 0);
  heartbeat.stop();
});

test('connections per address: a cap per address, released slots reusable', () => {
  const perAddress = new ConnectionsPerAddress(2);
  assert.equal(perAddress.tryOpen('a'), true);
  assert.equal(perAddress.tryOpen('a'), true);
  assert.equal(perAddress.isFull('a'), true);
  assert.equal(perAddress.tryOpen('a'), false);
  assert.equal(perAddress.tryOpen('b'), true);
  perAddress.release('a');
  assert.equal(perAddress.isFull('a'), false);
  assert.equal(perAddress.tryOpen('a'), true);
});

test('fitHistoryPage keeps the newest messages within the budget, at least one', () => {
  const message = (seq: number, size: number): ChatMessage => ({
    id: `m${seq}`,
    seq,
    roomId: 'r',
    from: { peerId: 'p', nickname: 'n' },
    text: 'x'.repeat(size),
    createdAt: 0,
  });
  const messages = Array.from({ length: 10 }, (_, i) => message(i, 1000));
  const all = fitHistoryPage({ messages, hasMore: false }, 1_000_000);
  assert.equal(all.messages.length, 10);
  assert.equal(all.hasMore, false);
  const trimmed = fitHistoryPage({ messages, hasMore: false }, 3500);
  assert.deepEqual(
    trimmed.messages.map((m) => m.seq),
    [7, 8, 9],
  );
  assert.equal(trimmed.hasMore, true);
  const one = fitHistoryPage({ messages: [message(0, 5000)], hasMore: false }, 100);
  assert.equal(one.messages.length, 1);
});
