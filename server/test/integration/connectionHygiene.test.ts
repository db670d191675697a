import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';

// Issue #10, defect 6: slow and idle connections are cleaned up, and one address cannot
// hold an unbounded number of sockets.

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const CAP = 5;

type Outcome = { open: WebSocket } | { refused: number | string };

/** Opens a socket and reports whether it stayed open, or how it was refused. */
function tryOpen(url: string, options: WebSocket.ClientOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'protoo', options);
    ws.once('unexpected-response', (_req, res) => {
      resolve({ refused: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('open', () => {
      // A socket the server closes straight after the upgrade counts as refused.
      const early = (code: number) => resolve({ refused: code });
      ws.once('close', early);
      setTimeout(() => {
        ws.off('close', early);
        resolve({ open: ws });
      }, 300);
    });
    ws.on('error', () => {});
  });
}

/** Milliseconds until the server closes `socket` (rejects after `limitMs`). */
function closedWithin(socket: Socket, limitMs: number): Promise<number> {
  const start = Date.now();
  // Read (and drop) what the server says, or 'end' and so 'close' never come.
  socket.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${limitMs} ms`)), limitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - start);
    });
  });
}

describe('connection hygiene', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      signaling: { pingIntervalSeconds: 1, maxConnectionsPerAddress: CAP },
      server: {
        requestTimeoutSeconds: 3,
        headersTimeoutSeconds: 2,
        connectionTimeoutSeconds: 3,
        timeoutCheckIntervalSeconds: 1,
      },
    });
  });
  after(async () => {
    await server?.stop();
  });

  test('a frame over maxPayload ends its socket on the server at once (1009)', async () => {
    const connections = server.app.tutti.connections;
    const before = connections.count;
    const big = await tryOpen(server.wsUrl);
    assert.ok('open' in big);
    assert.equal(connections.count, before + 1);
    const closed = new Promise<number>((resolve) => big.open.once('close', resolve));
    big.open.send('x'.repeat(1024 * 1024 + 1));
    assert.equal(await closed, 1009);
    // Not left waiting 30 s for the close handshake ws would otherwise wait for.
    const until = Date.now() + 2000;
    while (connections.count > before && Date.now() < until) await sleep(25);
    assert.equal(connections.count, before, 'the server dropped the socket');
  });

  test(`cap + 5 sockets from one address: exactly ${CAP} stay open; a freed slot is reusable`, async () => {
    const outcomes = await Promise.all(
      Array.from({ length: CAP + 5 }, () => tryOpen(server.wsUrl)),
    );
    const open = outcomes.flatMap((o) => ('open' in o ? [o.open] : []));
    const refused = outcomes.flatMap((o) => ('refused' in o ? [o.refused] : []));
    assert.equal(open.length, CAP);
    assert.equal(refused.length, 5);
    assert.ok(
      refused.every((r) => r === 429 || r === 1008),
      `refused with ${refused.join(',')}`,
    );
    // Closing one frees its slot.
    const gone = new Promise((resolve) => open[0]!.once('close', resolve));
    open[0]!.close();
    await gone;
    await sleep(100);
    const again = await tryOpen(server.wsUrl);
    assert.ok('open' in again, `refused again: ${JSON.stringify(again)}`);
    for (const ws of [...open.slice(1), again.open]) ws.terminate();
    await sleep(200);
  });

  test('a socket that does not answer pings is terminated; one that does stays', async () => {
    const mute = await tryOpen(server.wsUrl, { autoPong: false });
    const live = await tryOpen(server.wsUrl);
    assert.ok('open' in mute && 'open' in live);
    const muteClosed = new Promise<number>((resolve) => mute.open.once('close', resolve));
    let liveClosed = false;
    live.open.once('close', () => (liveClosed = true));
    const start = Date.now();
    const code = await Promise.race([muteClosed, sleep(6000).then(() => -1)]);
    assert.notEqual(code, -1, 'the mute socket was never cut');
    assert.ok(Date.now() - start < 4000, `cut after ${Date.now() - start} ms`);
    // The answering socket outlives the HTTP timeouts (3 s) too.
    await sleep(3500);
    assert.equal(liveClosed, false);
    live.open.terminate();
  });

  test('slowloris: headers sent byte by byte are cut after the headers timeout', async () => {
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const drip = 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(100);
    let i = 0;
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(drip[i++ % drip.length]!);
    }, 200);
    try {
      const ms = await closedWithin(socket, 8000);
      // headersTimeout 2 s, checked every second.
      assert.ok(ms >= 1500, `cut after ${ms} ms`);
    } finally {
      clearInterval(timer);
      socket.destroy();
    }
  });

  test('a request body sent byte by byte is cut after the request timeout', async () => {
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /api/rooms HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Content-Length: 1000\r\n\r\n',
    );
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(' ');
    }, 200);
    try {
      const ms = await closedWithin(socket, 8000);
      assert.ok(ms >= 2500, `cut after ${ms} ms`);
    } finally {
      clearInterval(timer);
      socket.destroy();
    }
  });

  test('a socket that never sends anything is dropped', async () => {
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    // headersTimeout (2 s) catches it with a 408, else connectionTimeout (3 s).
    const ms = await closedWithin(socket, 6000);
    assert.ok(ms >= 1500, `cut after ${ms} ms`);
  });
});
