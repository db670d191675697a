import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { prepareNotification } from '../../src/rooms/ports.ts';
import { WsTransport, type SendLimits, type WsLike } from '../../src/transport/WsTransport.ts';
import { textFrame } from '../../src/transport/wsFrame.ts';

// A room-wide notification is framed once and the same bytes go to every socket (issue 12).

/** Loopback address for this file's sockets (a shared box gives each runner its own). */
const HOST = process.env.TUTTI_TEST_HOST ?? '127.0.0.1';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A ws server and, per connection, the server-side ws socket. */
async function wsServer(): Promise<{
  wss: WebSocketServer;
  port: number;
  next: () => Promise<WebSocket>;
  close: () => Promise<void>;
}> {
  const wss = new WebSocketServer({ host: HOST, port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as { port: number };
  return {
    wss,
    port,
    next: () => new Promise<WebSocket>((resolve) => wss.once('connection', resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

/**
 * A WebSocket client on a bare TCP socket: the upgrade by hand, then every byte the server
 * sends, as it arrived (no frame parsing in between).
 */
async function rawClient(port: number): Promise<{ socket: Socket; bytes: () => Buffer }> {
  const socket = connect(port, HOST);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `GET / HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const chunks: Buffer[] = [];
  let head = true;
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    if (!head) return void chunks.push(chunk);
    pending = Buffer.concat([pending, chunk]);
    const end = pending.indexOf('\r\n\r\n');
    if (end < 0) return;
    assert.match(pending.subarray(0, end).toString(), /^HTTP\/1\.1 101/);
    head = false;
    if (pending.length > end + 4) chunks.push(pending.subarray(end + 4));
  });
  return { socket, bytes: () => Buffer.concat(chunks) };
}

const texts = [
  'hi',
  '', // an empty message
  'x'.repeat(125), // the last 7-bit length
  'x'.repeat(126), // the first 16-bit length
  JSON.stringify({
    notification: true,
    method: 'chat.message',
    data: { text: '안녕 👋 '.repeat(40) },
  }),
  'ㅎ'.repeat(30_000), // 90 000 bytes: a 64-bit length
];

test('a prepared frame is byte for byte what ws.send writes, for every length class', async () => {
  const srv = await wsServer();
  const accepted = srv.next();
  const client = await rawClient(srv.port);
  const server = await accepted;
  try {
    const socket = (server as unknown as { _socket: Socket })._socket;
    const transport = new WsTransport(server as unknown as WsLike);
    const sentUntilNow = async (): Promise<number> => {
      await until(() => socket.writableLength === 0, 'the server socket to drain');
      return socket.bytesWritten;
    };
    const start = await sentUntilNow(); // the 101 answer
    for (const text of texts) server.send(text); // ws frames them itself
    const viaWs = (await sentUntilNow()) - start;
    for (const text of texts) await transport.sendPrepared({ text });
    const total = (await sentUntilNow()) - start;
    await until(() => client.bytes().length >= total, 'every byte at the client');
    const bytes = client.bytes();
    assert.equal(total, 2 * viaWs, 'as many bytes each way');
    assert.ok(bytes.subarray(0, viaWs).equals(bytes.subarray(viaWs)), 'the same bytes on the wire');
    // And what the frame builder makes on its own is those bytes too.
    assert.ok(Buffer.concat(texts.map(textFrame)).equals(bytes.subarray(0, viaWs)));
  } finally {
    client.socket.destroy();
    await srv.close();
  }
});

test('one frame for many sockets: the same Buffer is written to each; order kept with send()', async () => {
  const srv = await wsServer();
  const clients: WebSocket[] = [];
  const servers: WebSocket[] = [];
  const got: string[][] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const accepted = srv.next();
      const c = new WebSocket(`ws://${HOST}:${srv.port}`);
      const mine: string[] = [];
      got.push(mine);
      c.on('message', (data: Buffer) => mine.push(data.toString()));
      await new Promise<void>((resolve) => c.once('open', () => resolve()));
      clients.push(c);
      servers.push(await accepted);
    }
    const written: unknown[] = [];
    const transports = servers.map((s) => {
      const socket = (s as unknown as { _socket: Socket })._socket;
      const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
      socket.write = ((chunk: unknown, ...rest: unknown[]) => {
        if (Buffer.isBuffer(chunk) && chunk.length > 20) written.push(chunk);
        return write(chunk, ...rest);
      }) as typeof socket.write;
      return new WsTransport(s as unknown as WsLike);
    });
    const prepared = prepareNotification('chat.message', {
      message: {
        id: 'm1',
        seq: 1,
        roomId: 'r',
        from: { peerId: 'a', nickname: 'A' },
        text: 'to everyone',
        createdAt: 1,
      },
    });
    // In one tick: an answer through send(), the broadcast, another send().
    await Promise.all(
      transports.flatMap((t) => [
        t.send({ response: true, id: 1, ok: true, data: {} }),
        t.sendPrepared(prepared),
        t.sendRaw('{"notification":true,"method":"after","data":{}}'),
      ]),
    );
    assert.equal(written.length, 3, 'one frame write per socket');
    assert.ok(
      written.every((b) => b === written[0]),
      'the very same Buffer for every socket',
    );
    await until(() => got.every((g) => g.length === 3), 'three frames at every client');
    for (const g of got) {
      assert.deepEqual(g, [
        '{"response":true,"id":1,"ok":true,"data":{}}',
        prepared.text,
        '{"notification":true,"method":"after","data":{}}',
      ]);
    }
  } finally {
    for (const c of clients) c.terminate();
    await srv.close();
  }
});

test('a socket that stops reading is cut past maxBufferedBytes on the prepared path too', async () => {
  const srv = await wsServer();
  const accepted = srv.next();
  const client = await rawClient(srv.port);
  const server = await accepted;
  try {
    client.socket.pause(); // never reads: the kernel buffers fill, then the server's queue
    const limits: SendLimits = { maxBufferedBytes: 256 * 1024, maxResponseBytes: 16 * 1024 };
    const transport = new WsTransport(server as unknown as WsLike, 'WS', () => {}, limits);
    const overflows: number[] = [];
    transport.on('overflow', (bytes: number) => overflows.push(bytes));
    const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    const prepared = { text: 'p'.repeat(64 * 1024) };
    let sent = 0;
    while (!transport.closed && sent < 2000) {
      await transport.sendPrepared(prepared).then(
        () => sent++,
        () => {},
      );
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(transport.closed, true, `cut after ${sent} frames`);
    assert.equal(overflows.length, 1);
    assert.ok(overflows[0]! > limits.maxBufferedBytes && overflows[0]! < 1024 * 1024);
    await closed; // terminated: the socket is gone, its queue dropped
    await assert.rejects(transport.sendPrepared(prepared), /transport closed/);
  } finally {
    client.socket.destroy();
    await srv.close();
  }
});

test('a closed socket is skipped: nothing written, the send rejects', async () => {
  const srv = await wsServer();
  const accepted = srv.next();
  const client = new WebSocket(`ws://${HOST}:${srv.port}`);
  await new Promise<void>((resolve) => client.once('open', () => resolve()));
  const server = await accepted;
  try {
    const socket = (server as unknown as { _socket: Socket })._socket;
    const transport = new WsTransport(server as unknown as WsLike);
    let writes = 0;
    const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
    socket.write = ((...a: unknown[]) => {
      writes++;
      return write(...a);
    }) as typeof socket.write;
    client.close(1000);
    await new Promise<void>((resolve) => transport.once('close', () => resolve()));
    const before = writes;
    await assert.rejects(transport.sendPrepared({ text: 'late' }), /transport closed/);
    assert.equal(writes, before, 'nothing written to a closed socket');
  } finally {
    client.terminate();
    await srv.close();
  }
});

test('preframeBroadcasts: false hands the text to ws.send (the baseline path)', async () => {
  const sent: string[] = [];
  const ws: WsLike = {
    readyState: 1,
    extensions: '',
    _socket: {
      cork() {},
      uncork() {},
      write: () => assert.fail('no direct write on the baseline path'),
    },
    send(data, cb) {
      sent.push(data);
      cb?.();
    },
    close() {},
    on: () => undefined,
  };
  const limits = { maxBufferedBytes: 1 << 20, maxResponseBytes: 1 << 20 };
  const transport = new WsTransport(ws, 'WS', () => {}, { ...limits, preframeBroadcasts: false });
  await transport.sendPrepared({ text: 'via ws' });
  assert.deepEqual(sent, ['via ws']);
});
