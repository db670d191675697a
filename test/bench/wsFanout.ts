import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import { prepareNotification } from '../../server/src/rooms/ports.ts';
import { WsTransport, type WsLike } from '../../server/src/transport/WsTransport.ts';
import { textFrame } from '../../server/src/transport/wsFrame.ts';
import { machineInfo } from '../load/cpu.ts';

/**
 * node test/bench/wsFanout.ts [--sockets 200] [--messages 2000] [--rounds 3] [--host H]:
 * the server's CPU per delivery of a room-wide notification, the WebSocket send path alone —
 * real `ws` sockets over loopback, read by raw TCP readers in a child process that only count
 * bytes (no frame parsing), no protoo, no chat. Each round sends the same `chat.message`
 * notification to every socket, `--messages` times (one message per tick, as a fan-out off
 * the bus does), once the baseline way (the string handed to `ws.send` per socket, which
 * frames and encodes it each time) and once pre-framed (WsTransport.sendPrepared: one frame,
 * the same Buffer to every socket), alternating, and prints process CPU per delivery (user +
 * system: the socket writes are most of it) and the ratio. Not a test; numbers depend on
 * the machine.
 */

const READER = process.argv.includes('--reader');

if (READER) {
  // Child: `sockets` raw WebSocket clients; counts the bytes received and reports them.
  const [host, port, sockets] = [
    process.argv[3]!,
    Number(process.argv[4]),
    Number(process.argv[5]),
  ];
  let bytes = 0;
  for (let i = 0; i < sockets; i++) {
    const s = connect(port, host);
    s.once('connect', () =>
      s.write(
        `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    s.on('data', (chunk: Buffer) => (bytes += chunk.length));
  }
  setInterval(() => process.send!(bytes), 20);
  process.on('disconnect', () => process.exit(0));
} else {
  const { values: args } = parseArgs({
    options: {
      sockets: { type: 'string', default: '200' },
      messages: { type: 'string', default: '2000' },
      rounds: { type: 'string', default: '3' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  const SOCKETS = Math.max(1, Number(args.sockets));
  const MESSAGES = Math.max(1, Number(args.messages));
  const ROUNDS = Math.max(1, Number(args.rounds));
  const wss = new WebSocketServer({ host: args.host, port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as { port: number };
  const transports: WsTransport[] = [];
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    transports.push(new WsTransport(ws as unknown as WsLike));
  });
  const reader = fork(
    fileURLToPath(import.meta.url),
    ['--reader', args.host, String(port), String(SOCKETS)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  let readBytes = 0;
  reader.on('message', (b) => (readBytes = Number(b)));
  while (transports.length < SOCKETS) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300));

  const message = {
    id: '5b0c1f7e-3a52-4a55-9e53-0f4b7a1d2c3e',
    seq: 123_456,
    roomId: 'bench-chat',
    from: { peerId: '3f2b1c4e-1111-2222-3333-444455556666', nickname: 'chat-17' },
    text: 'a chat message of an ordinary length, with a word or two 🙂',
    createdAt: Date.now(),
  };
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

  /** One pass: MESSAGES notifications to every socket, one per tick; CPU µs per delivery. */
  async function pass(preframed: boolean): Promise<number> {
    const start = readBytes;
    let expectBytes = 0;
    const c0 = process.cpuUsage();
    for (let i = 0; i < MESSAGES; i++) {
      // A new notification each time (each message is its own), serialized once as the
      // server does; framed once (pre-framed) or by ws per socket (baseline).
      const prepared = prepareNotification('chat.message', { message: { ...message, seq: i } });
      expectBytes += textFrame(prepared.text).length * SOCKETS;
      for (const t of transports) {
        void (preframed ? t.sendPrepared(prepared) : t.sendRaw(prepared.text)).catch(() => {});
      }
      await tick();
    }
    // Until the reader has it all (the writes finish asynchronously; CPU counted to here).
    while (readBytes - start < expectBytes) await new Promise((r) => setTimeout(r, 5));
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / (MESSAGES * SOCKETS);
  }

  console.log(`[bench:ws-fanout] machine: ${machineInfo()}`);
  console.log(
    `[bench:ws-fanout] ${SOCKETS} sockets × ${MESSAGES} messages per pass, ${ROUNDS} rounds (baseline, pre-framed)`,
  );
  await pass(true); // warm-up
  await pass(false);
  const ratios: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const base = await pass(false);
    const pre = await pass(true);
    ratios.push(pre / base);
    console.log(
      `[bench:ws-fanout] round ${r}: baseline (ws.send per socket) ${base.toFixed(2)} µs per delivery, pre-framed ${pre.toFixed(2)} µs: ratio ×${(pre / base).toFixed(2)}`,
    );
  }
  ratios.sort((a, b) => a - b);
  console.log(
    `[bench:ws-fanout] median ratio ×${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}`,
  );
  reader.kill();
  for (const s of sockets) s.terminate();
  wss.close();
}
