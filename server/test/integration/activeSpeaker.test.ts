import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { createRoom, sleep, trackBots, type Bot } from './bot.ts';

// Bots send no RTP, but the worker's ActiveSpeakerObserver still elects a dominant speaker
// among the mic producers it has: the first one added, and another one when the dominant
// producer is removed. That is enough to follow media.activeSpeaker end to end.

describe('media.activeSpeaker (real worker)', () => {
  let s: TestServer;
  const bots = trackBots(() => s.wsUrl);
  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    bots.closeAll();
    await s.stop();
  });

  async function bot(roomId: string, nick: string): Promise<Bot> {
    const b = await bots.bot(roomId, nick);
    await b.setupMedia();
    return b;
  }
  const next = async (b: Bot) =>
    (await b.client.nextNotification('media.activeSpeaker', undefined, 3000)).peerId;
  const speakers = (b: Bot) =>
    b.client.notifications
      .filter((n) => n.method === 'media.activeSpeaker')
      .map((n) => (n.data as { peerId: string | null }).peerId);

  test('newcomers learn the current speaker; null when its mic closes or it leaves', async () => {
    const roomId = await createRoom(s.wsUrl, 'Speakers');
    const a = await bot(roomId, 'a');
    const b = await bot(roomId, 'b');
    const aMic = await a.produce('mic');
    for (const x of [a, b]) assert.equal(await next(x), a.join.self.id);

    // c joins after the (only) change: it is told once it is ready to consume.
    const c = await bot(roomId, 'c');
    assert.equal(await next(c), a.join.self.id);

    // The speaker's mic closes: null first, then the worker elects the remaining mic.
    await b.produce('mic');
    await a.client.request('media.closeProducer', { producerId: aMic });
    for (const x of [a, b, c]) {
      assert.equal(await next(x), null, `${x.join.self.nickname}: null after the mic closed`);
      assert.equal(await next(x), b.join.self.id);
    }
    const d = await bot(roomId, 'd');
    assert.equal(await next(d), b.join.self.id);

    // The speaker leaves (its socket closes): null, and no other mic is left to elect.
    b.client.close();
    for (const x of [a, c, d]) {
      assert.equal(await next(x), null, `${x.join.self.nickname}: null after the speaker left`);
      await x.client.nextNotification('room.peerLeft');
    }
    const e = await bot(roomId, 'e');
    await sleep(500);
    assert.deepEqual(speakers(e), [], 'nobody speaking: a newcomer is told nothing');
    assert.deepEqual(speakers(a), [a.join.self.id, null, b.join.self.id, null]);
  });
});
