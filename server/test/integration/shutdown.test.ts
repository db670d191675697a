import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { connectSignaling } from '../../../test/helpers/signalingClient.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';

// A browser leaves sockets behind that a graceful close would wait for: a pre-connected
// TCP socket that never sends a request (Node only drops it at headersTimeout, ~60 s), an
// idle keep-alive connection, and WebSockets — one of them never answering the close
// handshake (ws waits 30 s for it). stop()/restart() must not wait for any of them.

function connectRaw(s: TestServer): Promise<net.Socket> {
  const { port } = new URL(s.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `head` and resolves with the socket once the response head has arrived. */
async function sendAndWaitHead(s: TestServer, head: string, expect: RegExp): Promise<net.Socket> {
  const socket = await connectRaw(s);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    let got = '';
    const onData = (chunk: Buffer) => {
      got += chunk.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (expect.test(got)) resolve();
      else reject(new Error(`unexpected response: ${got.slice(0, 200)}`));
    };
    socket.on('data', onData);
    socket.write(head);
  });
  return socket;
}

async function lingeringSockets(s: TestServer): Promise<net.Socket[]> {
  const host = new URL(s.url).host;
  // 1. Pre-connect: TCP open, no request.
  const preconnect = await connectRaw(s);
  preconnect.on('error', () => undefined);
  // 2. Idle keep-alive after one request.
  const keepAlive = await sendAndWaitHead(
    s,
    `GET /api/health HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`,
    /^HTTP\/1\.1 200/,
  );
  // 3. A WebSocket that never reads again (no close handshake answer).
  const key = randomBytes(16).toString('base64');
  const deafWs = await sendAndWaitHead(
    s,
    `GET /ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Protocol: protoo\r\n\r\n`,
    /^HTTP\/1\.1 101/,
  );
  deafWs.pause();
  return [preconnect, keepAlive, deafWs];
}

/** Rejects when `p` takes longer than `ms` (so a hanging close fails instead of stalling). */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still running after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('server shutdown with lingering connections', () => {
  test('stop() and restart() finish within 3 s despite idle HTTP and WebSocket connections', async () => {
    const s = await startTestServer();
    const sockets: net.Socket[] = [];
    let pending: Promise<void> = Promise.resolve();
    try {
      // A well-behaved signaling client in a room, too.
      const member = await connectSignaling(s.wsUrl);
      const { room } = await member.request('room.create', { name: 'Shutdown' });
      await member.request('room.join', { roomId: room.id, nickname: 'm' });
      sockets.push(...(await lingeringSockets(s)));

      let t0 = performance.now();
      await within(10_000, 'restart()', (pending = s.restart()));
      const restartMs = performance.now() - t0;
      assert.ok(restartMs < 3000, `restart took ${Math.round(restartMs)} ms`);
      await member.closedPromise;

      // The new server works, and stops quickly too.
      const res = await fetch(`${s.url}/api/rooms`);
      assert.equal(res.status, 200);
      sockets.push(...(await lingeringSockets(s)));
      t0 = performance.now();
      await within(10_000, 'stop()', (pending = s.stop()));
      const stopMs = performance.now() - t0;
      assert.ok(stopMs < 3000, `stop took ${Math.round(stopMs)} ms`);
    } finally {
      // Let a hanging close finish so the test process can exit.
      for (const socket of sockets) socket.destroy();
      await pending.catch(() => undefined);
      await s.stop().catch(() => undefined);
    }
  });
});
