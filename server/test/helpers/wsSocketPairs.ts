import type { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

/** Both ends of one real ws connection on loopback, the server's writes counted. */
export interface WsSocketPair {
  server: WebSocket;
  client: WebSocket;
  /** The server end's TCP socket. */
  socket: Socket;
  /** Every text the client got, in order. */
  got: string[];
  /** write syscalls the server socket's stream made (one per _write or _writev). */
  writes: () => number;
  /** The close code the client saw. */
  clientClosed: Promise<number>;
}

/**
 * `n` ws connections to a WebSocketServer of their own on `host`, each server end's stream
 * counting what reaches its write path (one call per syscall it makes). Once open, errors on
 * either end are the test's to see through its assertions, not unhandled. `close()`
 * terminates the clients and closes the server.
 */
export async function wsSocketPairs(
  n: number,
  host = '127.0.0.1',
): Promise<{ list: WsSocketPair[]; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host, port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as { port: number };
  const list: WsSocketPair[] = [];
  const close = async () => {
    for (const p of list) p.client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
  try {
    for (let i = 0; i < n; i++) list.push(await connect(wss, `ws://${host}:${port}`));
  } catch (err) {
    await close();
    throw err;
  }
  return { list, close };
}

async function connect(wss: WebSocketServer, url: string): Promise<WsSocketPair> {
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(url);
  const got: string[] = [];
  client.on('message', (data: Buffer) => got.push(data.toString()));
  const clientClosed = new Promise<number>((resolve) => client.once('close', resolve));
  client.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  const server = await accepted;
  server.on('error', () => {});
  const socket = (server as unknown as { _socket: Socket })._socket;
  let writes = 0;
  const raw = socket as unknown as Record<'_write' | '_writev', (...a: unknown[]) => void>;
  for (const name of ['_write', '_writev'] as const) {
    const original = raw[name].bind(socket);
    raw[name] = (...args: unknown[]) => {
      writes++;
      original(...args);
    };
  }
  return { server, client, socket, got, writes: () => writes, clientClosed };
}
