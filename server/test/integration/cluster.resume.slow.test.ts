import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Signaling } from '../../../client/src/lib/signaling.ts';
import { joinBehindProxy, proxyTargetOf } from '../helpers/resumingClient.ts';
import { TcpProxy } from '../helpers/tcpProxy.ts';
import { ensureRoom } from '../../../test/load/signaling.ts';
import { LocalClusterHub } from '../../src/cluster/index.ts';
import {
  sharedDataDir,
  sleep,
  startNode,
  until,
  type InProcessNode,
} from '../helpers/clusterNodes.ts';

// The browser client's resume (client/src/lib/session/reconnect.ts, with its real Signaling
// over protoo-client) against two real nodes: a member of node a whose socket drops lands on
// node b, and b's handover from a is slow (a's answer comes 12 s late, past the old 10 s the
// client waited). The client must neither give up nor join on that socket: it resumes, same
// id. Also: the server refusing the token means a fresh join, on a socket no resume is
// pending on. TUTTI_TEST_CLUSTER_HOSTS overrides the addresses.

const [HOST_A, HOST_B, HOST_PROXY] = (
  process.env.TUTTI_TEST_CLUSTER_HOSTS ?? '127.0.0.2,127.0.0.3,127.0.0.4'
).split(',') as [string, string, string];
const HANDOVER_DELAY_MS = 12_000;

describe('the client’s resume through a slow node', () => {
  const hub = new LocalClusterHub();
  const data = sharedDataDir();
  let a: InProcessNode;
  let b: InProcessNode;
  let proxy: TcpProxy;
  const clients: Signaling[] = [];
  // The handover may take as long as the delay (and the kept membership outlive it).
  const overrides = { cluster: { rpcTimeoutMs: 30_000 }, server: { resumeGraceSeconds: 40 } };
  before(async () => {
    a = await startNode({ nodeId: 'slow-a', host: HOST_A, dataDir: data.dir, hub, overrides });
    b = await startNode({ nodeId: 'slow-b', host: HOST_B, dataDir: data.dir, hub, overrides });
    proxy = new TcpProxy(proxyTargetOf(a));
    await proxy.start(HOST_PROXY);
  });
  after(async () => {
    for (const c of clients) c.close();
    await proxy.stop();
    await b.stop();
    await a.stop();
    data.remove();
  });

  test('a handover answered 12 s late: the client waits and resumes (same id, no join)', async () => {
    const roomId = await ensureRoom(a.wsUrl, 'Slow resume');
    const to = { node: a, roomId, nickname: 'Slowpoke' };
    const { c, member } = await joinBehindProxy(proxy, HOST_PROXY, to, clients);
    c.resume.issued(member.resumeToken);

    // b's handover request to a arrives 12 s late.
    const inject = hub.inject.bind(hub);
    let delayed = 0;
    hub.inject = (nodeId, raw) => {
      if (nodeId === 'slow-a' && raw.includes('\\"method\\":\\"session.handover\\"')) {
        delayed++;
        setTimeout(() => inject(nodeId, raw), HANDOVER_DELAY_MS);
        return 1;
      }
      return inject(nodeId, raw);
    };
    try {
      proxy.target = proxyTargetOf(b);
      const cutAt = Date.now();
      proxy.cut();
      await until('a resume step', () => c.steps.length > 0, HANDOVER_DELAY_MS + 15_000, 100);
      const took = Date.now() - cutAt;
      assert.deepEqual(
        c.steps.map((s) => s.kind),
        ['resumed'],
      );
      assert.ok(took >= HANDOVER_DELAY_MS, `answered after the delay (${took} ms)`);
      assert.equal(delayed, 1);
      assert.equal(c.synced.at(-1)?.id, member.self.id, 'the same member');
      const roomB = b.app.tutti.rooms.get(roomId);
      assert.ok(roomB?.hasMember(member.self.id), 'b carries it now');
      assert.equal(roomB?.size, 1, 'and nobody else joined there');
    } finally {
      hub.inject = inject;
    }
  });

  test('the token refused (unknown to the server): a fresh join on the new socket', async () => {
    const roomId = await ensureRoom(a.wsUrl, 'Refused resume');
    const to = { node: a, roomId, nickname: 'Spent' };
    const { c, member } = await joinBehindProxy(proxy, HOST_PROXY, to, clients);
    c.resume.issued(`${member.resumeToken.slice(0, 10)}${'A'.repeat(33)}`); // Not the server's.
    proxy.cut();
    await until('a resume step', () => c.steps.length > 0, 15_000, 100);
    assert.deepEqual(
      c.steps.map((s) => s.kind),
      ['join'],
    );
    await sleep(200);
    // The socket is in no room: a join works on it.
    const again = await c.signaling.request('room.join', { roomId, nickname: 'Spent again' });
    assert.notEqual(again.self.id, member.self.id);
  });
});
