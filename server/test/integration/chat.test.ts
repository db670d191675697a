import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodeOf } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import {
  createRoom,
  deleteRoom,
  joinRoom,
  received,
  until,
  type Member,
} from '../helpers/chatClients.ts';

const REDIS = process.env.TUTTI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

// Same behaviour whether fan-out goes through the in-process bus or through Redis pub/sub
// (as a cluster would).
for (const bus of ['local', 'redis'] as const) {
  describe(`chat over the room socket (${bus} bus)`, () => {
    let server: TestServer;
    const members: Member[] = [];
    const join = async (roomId: string, nickname: string) => {
      const m = await joinRoom(server, roomId, nickname);
      members.push(m);
      return m;
    };

    before(async () => {
      server = await startTestServer({
        chat: { ratePerSecond: 5, burst: 5 },
        ...(bus === 'redis' && { redis: { url: REDIS } }),
      });
    });
    after(async () => {
      for (const m of members) m.client.close();
      await server?.stop();
    });

    test('message round trip: stored, then broadcast to the room (sender included)', async () => {
      const { roomId } = await createRoom(server, 'Round trip');
      const ann = await join(roomId, 'Ann');
      const ben = await join(roomId, 'Ben');
      const { message } = await ann.client.request('chat.send', { text: '  hello there  ' });
      assert.equal(message.text, 'hello there');
      assert.deepEqual(message.from, { peerId: ann.id, nickname: 'Ann' });
      assert.equal(message.roomId, roomId);
      assert.equal(typeof message.seq, 'number');
      assert.ok(Math.abs(message.createdAt - Date.now()) < 5000);
      const atBen = await ben.client.nextNotification('chat.message');
      assert.deepEqual(atBen.message, message);
      const atAnn = await ann.client.nextNotification('chat.message');
      assert.equal(atAnn.message.id, message.id);
    });

    test('text is trimmed and 1–2000 characters; not-joined peers are refused', async () => {
      const { roomId } = await createRoom(server, 'Lengths');
      const ann = await join(roomId, 'Ann');
      await assert.rejects(
        ann.client.request('chat.send', { text: '   ' }),
        (e) => errorCodeOf(e) === 'INVALID_REQUEST',
      );
      await assert.rejects(
        ann.client.request('chat.send', { text: 'x'.repeat(2001) }),
        /at most 2000 characters/,
      );
      const ok = await ann.client.request('chat.send', { text: '🎉'.repeat(2000) });
      assert.equal([...ok.message.text].length, 2000);
      const { client } = await joinRoom(server, roomId, 'Tmp').then(async (m) => {
        await m.client.request('room.leave', {});
        return m;
      });
      await assert.rejects(
        client.request('chat.send', { text: 'hi' }),
        (e) => errorCodeOf(e) === 'NOT_JOINED',
      );
      client.close();
    });

    test('a peer over the rate gets RATE_LIMITED; the others lose nothing', async () => {
      const { roomId } = await createRoom(server, 'Flood');
      const spammer = await join(roomId, 'Spammer');
      const calm = await join(roomId, 'Calm');
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          spammer.client.request('chat.send', { text: `spam ${i}` }),
        ),
      );
      const accepted = results.flatMap((r) =>
        r.status === 'fulfilled' ? [r.value.message.id] : [],
      );
      const refused = results.filter((r) => r.status === 'rejected');
      assert.ok(accepted.length >= 5 && accepted.length < 12, `accepted ${accepted.length}`);
      for (const r of refused)
        assert.equal(errorCodeOf((r as PromiseRejectedResult).reason), 'RATE_LIMITED');
      // The calm peer is not limited by the spammer's bucket, and sees every accepted message.
      const mine = await calm.client.request('chat.send', { text: 'still here' });
      await until(() => received(calm.client).some((m) => m.id === mine.message.id));
      assert.deepEqual(
        received(calm.client).map((m) => m.id),
        [...accepted, mine.message.id],
      );
    });

    test('a late joiner gets the latest messages with room.join, older ones by cursor', async () => {
      const { roomId } = await createRoom(server, 'History');
      const ann = await join(roomId, 'Ann');
      const sent: string[] = [];
      for (let i = 0; i < 8; i++) {
        sent.push((await ann.client.request('chat.send', { text: `m${i}` })).message.id);
        await new Promise((r) => setTimeout(r, 210)); // stay under 5/s
      }
      const late = await join(roomId, 'Late');
      assert.deepEqual(
        late.join.history.map((m) => m.id),
        sent,
      );
      const page = await late.client.request('chat.history', { before: sent[5], limit: 3 });
      assert.deepEqual(
        page.messages.map((m) => m.text),
        ['m2', 'm3', 'm4'],
      );
      assert.equal(page.hasMore, true);
      const last = await late.client.request('chat.history', { before: sent[2], limit: 3 });
      assert.deepEqual(
        last.messages.map((m) => m.text),
        ['m0', 'm1'],
      );
      assert.equal(last.hasMore, false);
      await assert.rejects(
        late.client.request('chat.history', { before: 'no-such-id' }),
        (e) => errorCodeOf(e) === 'NOT_FOUND',
      );
    });

    test('a private message reaches only sender and recipient, live and in history', async () => {
      const { roomId } = await createRoom(server, 'Whispers');
      const ann = await join(roomId, 'Ann');
      const ben = await join(roomId, 'Ben');
      const cat = await join(roomId, 'Cat');
      const { message } = await ann.client.request('chat.send', {
        text: 'just for Ben',
        to: ben.id,
      });
      assert.deepEqual(message.to, { peerId: ben.id, nickname: 'Ben' });
      const marker = await ann.client.request('chat.send', { text: 'public after' });
      await until(() => received(cat.client).some((m) => m.id === marker.message.id));
      assert.equal((await ben.client.nextNotification('chat.message')).message.id, message.id);
      assert.equal((await ann.client.nextNotification('chat.message')).message.id, message.id);
      assert.ok(!received(cat.client).some((m) => m.id === message.id), 'Cat saw it live');
      const catHistory = await cat.client.request('chat.history', {});
      assert.deepEqual(
        catHistory.messages.map((m) => m.id),
        [marker.message.id],
      );
      const benHistory = await ben.client.request('chat.history', {});
      assert.deepEqual(
        benHistory.messages.map((m) => m.id),
        [message.id, marker.message.id],
      );
      const dan = await join(roomId, 'Dan');
      assert.deepEqual(
        dan.join.history.map((m) => m.id),
        [marker.message.id],
      );
      await assert.rejects(
        ann.client.request('chat.send', { text: 'to nobody', to: 'not-a-member' }),
        (e) => errorCodeOf(e) === 'NOT_FOUND',
      );
    });

    test('joining while messages flow: nothing missed, nothing shown twice after de-dup', async () => {
      const { roomId } = await createRoom(server, 'Busy');
      const senders = await Promise.all(['S1', 'S2', 'S3', 'S4'].map((n) => join(roomId, n)));
      const sent: Promise<string>[] = [];
      const joiners: Promise<Member>[] = [];
      for (let tick = 0; tick < 20; tick++) {
        for (const s of senders) {
          sent.push(s.client.request('chat.send', { text: `t${tick}` }).then((r) => r.message.id));
        }
        if (tick % 2 === 1) joiners.push(join(roomId, `J${tick}`));
        await new Promise((r) => setTimeout(r, 250)); // 4 msg/s per sender, under the limit
      }
      const all = await Promise.all(sent);
      const joined = await Promise.all(joiners);
      const last = joined.at(-1)!;
      const seen = (j: Member) => [...j.join.history, ...received(j.client)].map((m) => m.id);
      await until(() => joined.every((j) => seen(j).includes(all.at(-1)!)));
      for (const j of joined) {
        const history = j.join.history.map((m) => m.id);
        const live = received(j.client).map((m) => m.id);
        assert.equal(new Set(live).size, live.length, 'a live message arrived twice');
        const merged = new Set([...history, ...live]);
        // Everything from the first message this peer knows of onwards, without gaps.
        const from = all.indexOf(history[0] ?? live[0]!);
        assert.deepEqual(
          [...merged].sort((a, b) => all.indexOf(a) - all.indexOf(b)),
          all.slice(from),
        );
        if (bus === 'local') {
          // Same tick for admit and history read: the two sets never overlap.
          assert.deepEqual(
            history.filter((id) => live.includes(id)),
            [],
          );
        }
      }
      assert.equal(last.join.history.length > 0, true);
    });

    test('history survives a server restart', async () => {
      const { roomId } = await createRoom(server, 'Durable');
      const ann = await join(roomId, 'Ann');
      const a = await ann.client.request('chat.send', { text: 'before restart 1' });
      const b = await ann.client.request('chat.send', { text: 'before restart 2' });
      await server.restart();
      const back = await join(roomId, 'Back');
      assert.deepEqual(
        back.join.history.map((m) => [m.id, m.text]),
        [
          [a.message.id, 'before restart 1'],
          [b.message.id, 'before restart 2'],
        ],
      );
    });

    test('deleting a room deletes its chat history', async () => {
      const { roomId, ownerSecret } = await createRoom(server, 'Doomed');
      const ann = await join(roomId, 'Ann');
      await ann.client.request('chat.send', { text: 'soon gone' });
      await deleteRoom(server, roomId, ownerSecret);
      const db = server.app.tutti.db!; // SQLite here: no database.url
      const rows = db
        .prepare('SELECT COUNT(*) AS n FROM chat_messages WHERE room_id = ?')
        .get(roomId) as { n: number };
      assert.equal(rows.n, 0);
    });
  });
}
