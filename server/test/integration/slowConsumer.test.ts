import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { errorCodeOf, type ChatMessage } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { createRoom, joinRoom, type Member } from '../helpers/chatClients.ts';

// Issue #10, defect 1: a member that stops reading and keeps asking for big answers must
// not grow server memory without bound; it is cut, and everyone else is still served.

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** protoo over a bare `ws` socket, so the test can stop reading (pause its TCP socket). */
async function rawMember(url: string, roomId: string) {
  const ws = new WebSocket(url, 'protoo');
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', () => {});
  let nextId = 1;
  const pending = new Map<number, (ok: boolean) => void>();
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as { response?: boolean; id?: number; ok?: boolean };
    if (msg.response && typeof msg.id === 'number') pending.get(msg.id)?.(msg.ok === true);
  });
  const send = (method: string, data: unknown) => {
    const id = nextId++;
    ws.send(JSON.stringify({ request: true, id, method, data }));
    return new Promise<boolean>((resolve) => pending.set(id, resolve));
  };
  assert.equal(await send('room.join', { roomId, nickname: 'Sloth' }), true);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  return {
    ws,
    closed,
    /** Fire and forget: its answers pile up unread. */
    ask: (method: string, data: unknown) => void send(method, data),
    stopReading: () => (ws as unknown as { _socket: Socket })._socket.pause(),
  };
}

const bytesOf = (messages: ChatMessage[]) => Buffer.byteLength(JSON.stringify(messages));

describe('a client that stops reading (default limits)', () => {
  let server: TestServer;
  let roomId: string;
  const members: Member[] = [];

  before(async () => {
    // Generous request and chat rates: only the seeding needs them.
    server = await startTestServer({
      signaling: { requestsPerSecond: 1000, requestBurst: 1000 },
      chat: { ratePerSecond: 1000, burst: 1000 },
    });
    ({ roomId } = await createRoom(server, 'Big history'));
    const writer = await joinRoom(server, roomId, 'Writer');
    // 500 messages of 2,000 characters: an unbounded page of them is ~1.1 MB.
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          writer.client.request('chat.send', { text: `${batch}-${i} ${'x'.repeat(1990)}` }),
        ),
      );
    }
    writer.client.close();
  });
  after(async () => {
    for (const m of members) m.client.close();
    await server?.stop();
  });

  test('chat.history pages are trimmed to the byte budget, and paging still sees everything', async () => {
    const reader = await joinRoom(server, roomId, 'Reader');
    members.push(reader);
    const budget = server.config.chat.historyMaxBytes;
    assert.ok(bytesOf(reader.join.history ?? []) <= budget, 'join answer history within budget');
    const seen = new Set<number>();
    let before: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await reader.client.request('chat.history', {
        limit: 500,
        ...(before !== undefined && { before }),
      });
      pages++;
      assert.ok(page.messages.length > 0);
      assert.ok(bytesOf(page.messages) <= budget, `page of ${bytesOf(page.messages)} bytes`);
      for (const m of page.messages) {
        assert.ok(!seen.has(m.seq), `message ${m.seq} twice`);
        seen.add(m.seq);
      }
      if (!page.hasMore) break;
      before = page.messages[0]!.id;
    }
    assert.equal(seen.size, 500);
    assert.ok(pages > 1, 'the 500 messages needed more than one page');
  });

  test('the flooder is cut within seconds; another member is answered promptly; memory stays bounded', async () => {
    const calm = await joinRoom(server, roomId, 'Calm');
    members.push(calm);
    const connections = server.app.tutti.connections;
    const rssBefore = process.memoryUsage().rss;
    const sloth = await rawMember(server.wsUrl, roomId);
    const openWithSloth = connections.count;
    sloth.stopReading();

    let cutAt: number | undefined;
    const started = Date.now();
    // 100 requests a second for ~1.1 MB each (unbounded): the probe drove RSS to 2.5 GB.
    const flood = setInterval(() => {
      for (let i = 0; i < 10; i++) sloth.ask('chat.history', { limit: 500 });
    }, 100);
    const latencies: number[] = [];
    let peakRss = rssBefore;
    try {
      const deadline = started + 8000;
      while (Date.now() < deadline) {
        const t0 = Date.now();
        await calm.client.request('chat.history', { limit: 5 });
        latencies.push(Date.now() - t0);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        if (connections.count < openWithSloth) {
          cutAt = Date.now() - started;
          break;
        }
        await sleep(100);
      }
    } finally {
      clearInterval(flood);
      sloth.ws.terminate();
    }
    assert.ok(cutAt !== undefined, 'the socket that stopped reading was never cut');
    // Still served afterwards, and new connections are taken.
    const t0 = Date.now();
    await calm.client.request('chat.history', { limit: 5 });
    latencies.push(Date.now() - t0);
    const late = await joinRoom(server, roomId, 'Late');
    members.push(late);
    const rssAfter = process.memoryUsage().rss;
    const mb = (n: number) => Math.round(n / 1e6);
    console.log(
      `cut after ${cutAt} ms; calm latency max ${Math.max(...latencies)} ms over ` +
        `${latencies.length} requests; rss ${mb(rssBefore)} → peak ${mb(peakRss)} → ${mb(rssAfter)} MB`,
    );
    assert.ok(cutAt < 5000, `cut after ${cutAt} ms`);
    assert.ok(Math.max(...latencies) < 2000, `latencies ${latencies.join(',')}`);
    assert.ok(peakRss - rssBefore < 400e6, `rss grew by ${mb(peakRss - rssBefore)} MB`);
  });
});

test('an answer over signaling.maxResponseBytes becomes PAYLOAD_TOO_LARGE', async () => {
  const server = await startTestServer({
    signaling: { maxResponseBytes: 16 * 1024 },
    chat: { historyMaxBytes: 64 * 1024, ratePerSecond: 1000, burst: 1000 },
  });
  try {
    const { roomId } = await createRoom(server, 'Capped');
    const ann = await joinRoom(server, roomId, 'Ann');
    for (let i = 0; i < 20; i++) await ann.client.request('chat.send', { text: 'y'.repeat(2000) });
    await assert.rejects(
      ann.client.request('chat.history', { limit: 20 }),
      (e) => errorCodeOf(e) === 'PAYLOAD_TOO_LARGE',
    );
    // A smaller page fits, and the connection is fine.
    const page = await ann.client.request('chat.history', { limit: 3 });
    assert.equal(page.messages.length, 3);
    ann.client.close();
  } finally {
    await server.stop();
  }
});
