import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { WsTransport, type WsLike } from '../../src/transport/WsTransport.ts';

// Chat fan-out: the frames one tick sends to a socket leave in one write (issue 12).

test('frames sent in one tick to a real ws socket leave as one write, in order', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as { port: number };
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const got: string[] = [];
  client.on('message', (data: Buffer) => got.push(data.toString()));
  await new Promise<void>((resolve) => client.once('open', () => resolve()));
  const server = await accepted;
  try {
    const socket = (server as unknown as { _socket: Socket })._socket;
    // Count what reaches the socket's write path (one call per syscall the stream makes).
    let writes = 0;
    const raw = socket as unknown as Record<'_write' | '_writev', (...a: unknown[]) => void>;
    for (const name of ['_write', '_writev'] as const) {
      const original = raw[name].bind(socket);
      raw[name] = (...args: unknown[]) => {
        writes++;
        original(...args);
      };
    }
    const transport = new WsTransport(server as unknown as WsLike);

    const sent = ['one', 'two', 'three'].map((text) => transport.sendRaw(text));
    assert.equal(socket.writableCorked, 1, 'corked for the rest of the tick');
    assert.equal(writes, 0);
    await Promise.all(sent);
    assert.equal(socket.writableCorked, 0);
    assert.equal(writes, 1, 'three frames, one write');

    await transport.sendRaw('four'); // a later tick: its own write
    assert.equal(writes, 2);
    const deadline = Date.now() + 2000;
    while (got.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, ['one', 'two', 'three', 'four']);

    transport.close(); // a close in a corked tick still goes out
    await new Promise<void>((resolve) => client.once('close', () => resolve()));
  } finally {
    client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
});
