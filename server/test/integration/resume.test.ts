/**
 * Membership resume after a dropped signaling socket (docs/reconnect.md), over real sockets
 * against a real server: a member whose socket ends without a close frame keeps its seat for
 * server.resumeGraceSeconds; a new socket presenting the join's resume token takes it over
 * (same id, nothing seen by the others, what was sent meanwhile replayed once). Tokens are
 * single use, bound to their member, and worth nothing after a leave, a goodbye or the grace.
 * Also: chat.send idempotency keys (a resend is stored and delivered once).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { codeOf, until } from '../../../test/helpers/waits.ts';
import { connectRaw, type RawClient } from '../helpers/rawSignaling.ts';

describe('membership resume', () => {
  let server: TestServer;
  let roomId: string;
  const open: RawClient[] = [];
  const client = () => connectRaw(server.wsUrl, { open });
  const member = async (nickname: string) => {
    const c = await client();
    const joined = await c.request('room.join', { roomId, nickname });
    assert.ok(joined.resumeToken, 'the join answer carries a resume token');
    return { c, joined, token: joined.resumeToken };
  };

  before(async () => {
    server = await startTestServer({ server: { resumeGraceSeconds: 2 } });
    const owner = await client();
    roomId = (await owner.request('room.create', { name: 'Resumable' })).room.id;
  });

  after(async () => {
    for (const c of open) c.ws.terminate();
    await server?.stop();
  });

  test('a dropped socket keeps the membership; the token takes it over on a new socket', async () => {
    const watcher = await member('watcher');
    const alice = await member('alice');
    alice.c.ws.terminate(); // no close frame: a network drop
    await alice.c.closed;
    // While alice is away: a chat message and a newcomer, both kept for her.
    await sleep(300);
    const { message } = await watcher.c.request('chat.send', { text: 'while you were away' });
    const bob = await member('bob');

    const again = await client();
    const resumed = await again.request('session.resume', { token: alice.token! });
    assert.equal(resumed.self.id, alice.joined.self.id, 'the same membership');
    assert.equal(resumed.self.nickname, 'alice');
    assert.deepEqual(resumed.peers.map((p) => p.nickname).sort(), ['bob', 'watcher']);
    assert.notEqual(resumed.resumeToken, alice.token, 'a fresh token');
    // What was sent while she was away arrives once, in order, on the new socket.
    await until('the replayed join', () => again.seen('room.peerJoined').length === 1, 2000, 20);
    const chats = again.seen('chat.message').map((n) => n.message.id);
    assert.deepEqual(chats, [message.id]);
    // The new socket acts as the member: its chat comes from alice.
    const sent = await again.request('chat.send', { text: 'back' });
    assert.equal(sent.message.from.peerId, alice.joined.self.id);
    await sleep(2500); // past the grace: she stays, she is attached again
    for (const other of [watcher, bob]) {
      assert.deepEqual(
        other.c.seen('room.peerLeft').filter((n) => n.peerId === alice.joined.self.id),
        [],
        'nobody saw alice leave',
      );
    }
    // A spent token is worth nothing once the answer is confirmed, even while its membership
    // lives on (double resume).
    await again.request('session.confirm', {});
    const thief = await client();
    assert.equal(
      await codeOf(thief.request('session.resume', { token: alice.token! })),
      'RESUME_FAILED',
    );
    // Her next token still works, once: a socket still open (half-open) is taken over.
    const third = await client();
    const next = await third.request('session.resume', { token: resumed.resumeToken });
    assert.equal(next.self.id, alice.joined.self.id);
    assert.equal(await again.closed, 4000, 'the replaced socket is closed by the server');
    await sleep(200);
    assert.deepEqual(watcher.c.seen('room.peerLeft'), [], 'still nobody left');
    assert.equal(
      await codeOf(third.request('session.resume', { token: next.resumeToken })),
      'ALREADY_JOINED',
      'a socket in a room cannot resume another membership',
    );
    for (const m of [watcher, bob]) await m.c.request('room.leave', {});
    await third.request('room.leave', {});
  });

  test('a spent token resumes again until the answer is confirmed, never after', async () => {
    const watcher = await member('watcher5');
    const hana = await member('hana');
    hana.c.ws.terminate();
    await hana.c.closed;
    const first = await client();
    const lost = await first.request('session.resume', { token: hana.token! });
    // Say that answer never arrived: the client asks again with the token it has.
    const retry = await client();
    const again = await retry.request('session.resume', { token: hana.token! });
    assert.equal(again.self.id, hana.joined.self.id, 'the same membership');
    assert.equal(again.media, 'kept');
    assert.equal(await first.closed, 4000, 'the socket the answer was lost on is closed');
    // The token of the lost answer is dead (the retry's answer brought the next one).
    const stale = await client();
    assert.equal(
      await codeOf(stale.request('session.resume', { token: lost.resumeToken })),
      'RESUME_FAILED',
    );
    // Confirmed: a replay of the spent token cannot take the live member.
    await retry.request('session.confirm', {});
    const thief = await client();
    assert.equal(
      await codeOf(thief.request('session.resume', { token: hana.token! })),
      'RESUME_FAILED',
    );
    // Nor after a drop: the member detached again, the confirmed token stays dead.
    retry.ws.terminate();
    await retry.closed;
    assert.equal(
      await codeOf(thief.request('session.resume', { token: hana.token! })),
      'RESUME_FAILED',
    );
    // Presenting the newer token confirms the older one too.
    const back = await client();
    const next = await back.request('session.resume', { token: again.resumeToken });
    assert.equal(next.self.id, hana.joined.self.id);
    const thief2 = await client();
    assert.equal(
      await codeOf(thief2.request('session.resume', { token: hana.token! })),
      'RESUME_FAILED',
    );
    await sleep(100);
    assert.equal(await Promise.race([back.closed, sleep(100).then(() => 'open')]), 'open');
    assert.deepEqual(watcher.c.seen('room.peerLeft'), [], 'nobody saw hana leave');
    for (const c of [watcher.c, back]) await c.request('room.leave', {});
  });

  test('after the grace the member leaves as before, and its token is refused', async () => {
    const watcher = await member('watcher2');
    const carol = await member('carol');
    carol.c.ws.terminate();
    const dropAt = Date.now();
    await until('carol leaving', () => watcher.c.seen('room.peerLeft').length === 1, 5000, 20);
    const waited = Date.now() - dropAt;
    assert.ok(waited >= 1800 && waited < 4000, `left after the 2 s grace (${waited} ms)`);
    assert.equal(watcher.c.seen('room.peerLeft')[0]!.peerId, carol.joined.self.id);
    const late = await client();
    assert.equal(
      await codeOf(late.request('session.resume', { token: carol.token! })),
      'RESUME_FAILED',
    );
    await watcher.c.request('room.leave', {});
  });

  test('tokens are bound to a live membership: goodbyes, leaves and garbage are refused', async () => {
    const watcher = await member('watcher3');
    // A goodbye (close frame 1000) is a leave: no grace.
    const dave = await member('dave');
    dave.c.ws.close(1000);
    await until(
      'dave leaving at once',
      () => watcher.c.seen('room.peerLeft').length === 1,
      1500,
      20,
    );
    const x = await client();
    assert.equal(
      await codeOf(x.request('session.resume', { token: dave.token! })),
      'RESUME_FAILED',
    );
    // An explicit leave spends what the token was for, even if the socket then drops.
    const erin = await member('erin');
    await erin.c.request('room.leave', {});
    erin.c.ws.terminate();
    assert.equal(
      await codeOf(x.request('session.resume', { token: erin.token! })),
      'RESUME_FAILED',
    );
    // Malformed tokens never reach the handler; well-formed guesses match nothing.
    assert.equal(await codeOf(x.request('session.resume', { token: 'short' })), 'INVALID_REQUEST');
    const guess = Buffer.alloc(32, 7).toString('base64url');
    assert.equal(await codeOf(x.request('session.resume', { token: guess })), 'RESUME_FAILED');
    // The socket that failed to resume is still usable: it can join normally.
    const joined = await x.request('room.join', { roomId, nickname: 'frank' });
    assert.equal(joined.self.nickname, 'frank');
    await x.request('room.leave', {});
    await watcher.c.request('room.leave', {});
  });

  test('chat.send with an idempotency key is stored and delivered once', async () => {
    const watcher = await member('watcher4');
    const gina = await member('gina');
    const key = 'outbox-key-0001';
    const first = await gina.c.request('chat.send', { text: 'only once', key });
    const again = await gina.c.request('chat.send', { text: 'only once', key });
    assert.equal(again.message.id, first.message.id, 'the resend is answered with the first');
    // Racing resends (an answer lost, the outbox flushing on two sockets): still one.
    const racing = await Promise.all(
      [1, 2, 3].map(() => gina.c.request('chat.send', { text: 'raced', key: 'outbox-key-0002' })),
    );
    assert.equal(new Set(racing.map((r) => r.message.id)).size, 1);
    // Another sender's key space is its own.
    const mine = await watcher.c.request('chat.send', { text: 'mine', key });
    assert.notEqual(mine.message.id, first.message.id);
    await sleep(200);
    const texts = watcher.c.seen('chat.message').map((n) => n.message.text);
    assert.deepEqual(texts, ['only once', 'raced', 'mine']);
    const history = await watcher.c.request('chat.history', {});
    assert.deepEqual(
      history.messages.filter((m) => m.from.peerId === gina.joined.self.id).map((m) => m.text),
      ['only once', 'raced'],
    );
    assert.equal(
      await codeOf(gina.c.request('chat.send', { text: 'x', key: 'bad key!' })),
      'INVALID_REQUEST',
    );
  });
});
