import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerInfo } from '@tutti/protocol';
import type { Signaling } from '../../../client/src/lib/signaling.ts';
import { ensureRoom } from '../../../test/load/signaling.ts';
import { LocalClusterHub } from '../../src/cluster/index.ts';
import { codeOf } from '../../../test/helpers/waits.ts';
import { sharedDataDir, startNode, until, type InProcessNode } from '../helpers/clusterNodes.ts';
import { connectRaw, type RawClient } from '../helpers/rawSignaling.ts';
import { joinBehindProxy, proxyTargetOf } from '../helpers/resumingClient.ts';
import { TcpProxy, type LostAnswer } from '../helpers/tcpProxy.ts';

// A resume the server handled whose answer never reached the client (docs/reconnect.md, "a
// lost answer"): the browser client's resume (client/src/lib/session/reconnect.ts, its real
// Signaling over protoo-client) behind a TCP proxy that swallows the `session.resume` answer
// and drops the socket. The client tries again on the next socket with the token it has, the
// one that resume spent: it must get the same membership back, and the others must see no
// leave or join (before the fix: RESUME_FAILED, a fresh join as a new member). On one node
// (the socket cut, or half-open at the server), through another node of the cluster, and
// through a third one after that (the issuing node sends it to the one that took it over).
// TUTTI_TEST_CLUSTER_HOSTS overrides the addresses.

const [HOST_A, HOST_B, HOST_C, HOST_PROXY = HOST_A] = (
  process.env.TUTTI_TEST_CLUSTER_HOSTS ?? '127.0.0.2,127.0.0.3,127.0.0.4'
).split(',') as [string, string, string, string?];

describe('a resume whose answer was lost', () => {
  const hub = new LocalClusterHub();
  const data = sharedDataDir();
  let a: InProcessNode;
  let b: InProcessNode;
  let c3: InProcessNode;
  let proxy: TcpProxy;
  const clients: Signaling[] = [];
  const raw: RawClient[] = [];
  before(async () => {
    a = await startNode({ nodeId: 'lost-a', host: HOST_A, dataDir: data.dir, hub });
    b = await startNode({ nodeId: 'lost-b', host: HOST_B, dataDir: data.dir, hub });
    c3 = await startNode({ nodeId: 'lost-c', host: HOST_C, dataDir: data.dir, hub });
    proxy = new TcpProxy(proxyTargetOf(a));
    await proxy.start(HOST_PROXY);
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const c of raw) c.ws.terminate();
    await proxy.stop();
    await c3.stop();
    await b.stop();
    await a.stop();
    data.remove();
  });

  /**
   * A watcher on node a and a member through the proxy (to `first`); the member's socket is
   * cut, its resume goes to `second` and that answer is lost (`then`); the retry goes to
   * `third`. Returns both sides once the client took its next step after the lost answer.
   */
  async function loseTheAnswer(
    name: string,
    first: InProcessNode,
    second: InProcessNode,
    then: LostAnswer['then'],
    third = second,
  ) {
    const roomId = await ensureRoom(a.wsUrl, name);
    const watcher = await connectRaw(a.wsUrl, { open: raw });
    await watcher.request('room.join', { roomId, nickname: `${name} watcher` });
    for (const earlier of clients.splice(0)) earlier.close(); // One client behind the proxy.
    const nickname = `${name} member`;
    const { c, member } = await joinBehindProxy(
      proxy,
      HOST_PROXY,
      { node: first, roomId, nickname },
      clients,
    );
    c.resume.issued(member.resumeToken);
    await until(
      'the watcher seeing the member',
      () => watcher.seen('room.peerJoined').length === 1,
    );

    // The next answer with a resume token is the resume's: it never reaches the client.
    const lost = proxy.loseAnswer({ answer: '"resumeToken"', then });
    proxy.target = proxyTargetOf(second);
    proxy.cut();
    assert.ok((await lost).includes(member.self.id), 'the answer lost was this member’s');
    proxy.target = proxyTargetOf(third); // Before the client's next socket (a timer away).
    // The socket the answer was lost on may settle its request later (a `wait`) or never.
    const verdict = () => c.steps.filter((s) => s.kind !== 'wait');
    await until('a verdict after the lost answer', () => verdict().length > 0, 20_000, 50);
    return { roomId, watcher, c, member, verdict: verdict() };
  }

  /** Same member, nobody saw it leave or join again. */
  function assertSameMembership(
    watcher: RawClient,
    synced: readonly PeerInfo[],
    member: { self: PeerInfo },
  ) {
    assert.equal(synced.at(-1)?.id, member.self.id, 'the same member');
    assert.deepEqual(
      watcher.seen('room.peerLeft').map((n) => n.peerId),
      [],
      'nobody saw it leave',
    );
    assert.equal(watcher.seen('room.peerJoined').length, 1, 'nor join again');
  }

  test('one node, the socket cut after the answer: the spent token resumes it again', async () => {
    const { roomId, watcher, c, member, verdict } = await loseTheAnswer('Cut', a, a, 'cut');
    assert.deepEqual(
      verdict.map((s) => s.kind),
      ['resumed'],
    );
    assertSameMembership(watcher, c.synced, member);
    const room = a.app.tutti.rooms.get(roomId);
    assert.equal(room?.size, 2, 'the watcher and the member, nobody else');
    // The new socket acts as the member (and its confirm went before, on the same socket).
    const sent = await c.signaling.request('chat.send', { text: 'still me' });
    assert.equal(sent.message.from.peerId, member.self.id);
    // Confirmed: the spent token replayed cannot take the member from its live socket.
    const thief = await connectRaw(a.wsUrl, { open: raw });
    const stolen = thief.request('session.resume', { token: member.resumeToken });
    assert.equal(await codeOf(stolen), 'RESUME_FAILED');
    assert.equal(c.signaling.state, 'open');
    const still = await c.signaling.request('chat.send', { text: 'and still me' });
    assert.equal(still.message.from.peerId, member.self.id);
  });

  test('one node, the resumed socket half-open at the server: taken over again', async () => {
    const { roomId, watcher, c, member, verdict } = await loseTheAnswer(
      'Half-open',
      a,
      a,
      'half-open',
    );
    assert.deepEqual(
      verdict.map((s) => s.kind),
      ['resumed'],
    );
    assertSameMembership(watcher, c.synced, member);
    assert.equal(a.app.tutti.rooms.get(roomId)?.size, 2);
  });

  test('through node b (a handover), the answer lost: b resumes it again, media rebuilt', async () => {
    const { roomId, watcher, c, member, verdict } = await loseTheAnswer('Handover', a, b, 'cut');
    assert.deepEqual(
      verdict,
      [{ kind: 'resumed', rebuildMedia: true }],
      'resumed with a rebuild (what the lost answer said)',
    );
    assertSameMembership(watcher, c.synced, member);
    const roomB = b.app.tutti.rooms.get(roomId);
    assert.ok(roomB?.hasMember(member.self.id), 'b carries it');
    assert.equal(roomB?.size, 1, 'and nobody else joined there');
    assert.equal(a.app.tutti.rooms.get(roomId)?.hasMember(member.self.id), false);
  });

  test('through node b, the answer lost, the retry through node c: c takes it from b', async () => {
    const { roomId, watcher, c, member, verdict } = await loseTheAnswer('Onwards', a, b, 'cut', c3);
    assert.deepEqual(verdict, [{ kind: 'resumed', rebuildMedia: true }]);
    assertSameMembership(watcher, c.synced, member);
    assert.ok(c3.app.tutti.rooms.get(roomId)?.hasMember(member.self.id), 'c carries it');
    assert.equal(c3.app.tutti.rooms.get(roomId)?.size, 1);
    for (const node of [a, b]) {
      assert.equal(node.app.tutti.rooms.get(roomId)?.hasMember(member.self.id) ?? false, false);
    }
  });

  test('through node b, the answer lost, the retry through node a: a takes it back', async () => {
    const { roomId, watcher, c, member, verdict } = await loseTheAnswer('Back', a, b, 'cut', a);
    assert.deepEqual(verdict, [{ kind: 'resumed', rebuildMedia: true }]);
    assertSameMembership(watcher, c.synced, member);
    assert.ok(a.app.tutti.rooms.get(roomId)?.hasMember(member.self.id), 'a carries it again');
    assert.equal(b.app.tutti.rooms.get(roomId)?.hasMember(member.self.id) ?? false, false);
  });
});
