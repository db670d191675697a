import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'node:http';
import { errorCodeOf } from '@tutti/protocol';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { spawnMain, type LogLine } from '../helpers/mainProcess.ts';

interface Node {
  url: string;
  wsUrl: string;
  logs: LogLine[];
  /** Exit code (null: killed by a signal). */
  exited: Promise<number | null>;
  signal(name: NodeJS.Signals): void;
  kill(): Promise<void>;
}

/** `npm start` (server/src/main.ts) in a child process, on a temp data dir. */
async function startNode(drainGraceSeconds: number): Promise<Node> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tutti-drain-'));
  const configFile = path.join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      server: { host: '127.0.0.1', port: 0, httpsPort: 0, logLevel: 'info', drainGraceSeconds },
      media: { numWorkers: 1, listenIp: '127.0.0.1' },
      data: { dir },
    }),
  );
  const main = spawnMain(configFile, { detached: true });
  const { child, exited, logs, stderr } = main;
  void exited.then(() => rmSync(dir, { recursive: true, force: true }));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await exited;
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server did not start: ${stderr.join('')}`)),
        20_000,
      );
      const check = (l: LogLine): void => {
        const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(l.msg);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      logs.forEach(check);
      main.onLine = check;
    });
    return {
      url: `http://127.0.0.1:${port}`,
      wsUrl: `ws://127.0.0.1:${port}/ws`,
      logs,
      exited,
      signal: (name) => process.kill(child.pid!, name),
      kill,
    };
  } catch (err) {
    await kill();
    throw err;
  }
}

async function roomWithMembers(
  node: Node,
  nicknames: string[],
): Promise<{ roomId: string; members: SignalingClient[] }> {
  const members: SignalingClient[] = [];
  let roomId = '';
  for (const nickname of nicknames) {
    const client = await connectSignaling(node.wsUrl);
    if (!roomId) roomId = (await client.request('room.create', { name: 'drain' })).room.id;
    await client.request('room.join', { roomId, nickname });
    members.push(client);
  }
  return { roomId, members };
}

const status = async (url: string): Promise<[number, unknown]> => {
  const res = await fetch(url);
  return [res.status, await res.json()];
};

async function refusal(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    return errorCodeOf(err);
  }
}

/** The HTTP status a WebSocket upgrade of /ws gets (101 when it is accepted). */
function upgradeStatus(base: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/ws`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-protocol': 'protoo',
      },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

const errorLines = (node: Node) => node.logs.filter((l) => l.level >= 50).map((l) => l.msg);

test('SIGTERM drains: ready 503, joins refused, members told; exits once they have left', async () => {
  const node = await startNode(30);
  const clients: SignalingClient[] = [];
  try {
    const { roomId, members } = await roomWithMembers(node, ['ann', 'bob']);
    clients.push(...members);
    const bystander = await connectSignaling(node.wsUrl); // Connected, in no room.
    clients.push(bystander);
    await bystander.request('lobby.subscribe', {});
    assert.deepEqual(await status(`${node.url}/api/ready`), [200, { status: 'ready' }]);

    const told = members.map((m) => m.nextNotification('server.draining', undefined, 5000));
    const sentAt = Date.now();
    node.signal('SIGTERM');

    for (const notice of await Promise.all(told)) {
      assert.equal(typeof notice.reconnectAfterMs, 'number');
      assert.ok(notice.reconnectAfterMs >= 0 && notice.reconnectAfterMs <= 5000);
    }
    assert.deepEqual(await status(`${node.url}/api/ready`), [503, { status: 'draining' }]);
    assert.deepEqual(await status(`${node.url}/api/live`), [200, { status: 'live' }]);
    assert.equal(
      await refusal(bystander.request('room.join', { roomId, nickname: 'late' })),
      'DRAINING',
    );
    assert.equal(await refusal(bystander.request('room.create', { name: 'new' })), 'DRAINING');
    assert.equal(await upgradeStatus(node.url), 503, 'no new signaling sockets while draining');
    await assert.rejects(connectSignaling(node.wsUrl, 3000));
    // The members' calls go on meanwhile: the worker and the room's router are still there.
    const [, detail] = (await status(`${node.url}/api/health/detail`)) as [
      number,
      { draining: boolean; workers: { alive: boolean; routers: number }[] },
    ];
    assert.equal(detail.draining, true);
    assert.deepEqual(
      detail.workers.map((w) => [w.alive, w.routers]),
      [[true, 1]],
    );
    assert.equal(
      (await members[0]!.request('chat.send', { text: 'still here' })).message.text,
      'still here',
    );

    // They reconnect elsewhere (here: just leave); the node exits without waiting the grace.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await Promise.race([node.exited.then(() => 'exited'), 'running']), 'running');
    for (const m of members) m.close();
    const leftAt = Date.now();
    assert.equal(await node.exited, 0);
    assert.ok(Date.now() - leftAt < 5000, `exited ${Date.now() - leftAt} ms after the last left`);
    assert.ok(Date.now() - sentAt < 15_000, 'well before the 30 s grace');
    assert.deepEqual(errorLines(node), [], 'no error-level log lines');
    assert.ok(node.logs.some((l) => l.msg === 'every member left'));
  } finally {
    for (const c of clients) c.close();
    await node.kill();
  }
});

test('SIGTERM drain with a member that stays: exits at the grace (2 s)', async () => {
  const node = await startNode(2);
  const clients: SignalingClient[] = [];
  try {
    const { members } = await roomWithMembers(node, ['stayer']);
    clients.push(...members);
    const stayer = members[0]!;
    const told = stayer.nextNotification('server.draining', undefined, 5000);
    const closed = stayer.nextNotification('room.closed', undefined, 10_000);
    const sentAt = Date.now();
    node.signal('SIGTERM');
    await told;
    assert.deepEqual(await closed, { reason: 'shutdown' }, 'at the grace: the normal shutdown');
    assert.equal(await node.exited, 0);
    const took = Date.now() - sentAt;
    assert.ok(took >= 1800 && took < 8000, `exit after ${took} ms (grace 2 s)`);
    assert.deepEqual(errorLines(node), [], 'no error-level log lines');
    assert.ok(node.logs.some((l) => l.msg === 'drain grace ended'));
  } finally {
    for (const c of clients) c.close();
    await node.kill();
  }
});

test('a second SIGTERM during the drain stops at once', async () => {
  const node = await startNode(60);
  const clients: SignalingClient[] = [];
  try {
    const { members } = await roomWithMembers(node, ['stayer']);
    clients.push(...members);
    const stayer = members[0]!;
    const told = stayer.nextNotification('server.draining', undefined, 5000);
    const closed = stayer.nextNotification('room.closed', undefined, 5000);
    node.signal('SIGTERM');
    await told;
    const againAt = Date.now();
    node.signal('SIGTERM');
    assert.deepEqual(await closed, { reason: 'shutdown' });
    assert.equal(await node.exited, 0);
    assert.ok(Date.now() - againAt < 3000, `exit ${Date.now() - againAt} ms after the second`);
    assert.deepEqual(errorLines(node), []);
  } finally {
    for (const c of clients) c.close();
    await node.kill();
  }
});
