import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { trackMedia } from '../helpers/mediaTracker.ts';
import { createRoom, trackBots } from './bot.ts';

// media.minOutgoingBitrate (issue 10): a receive transport's estimate has a floor, so audio
// plus the lowest simulcast layer stay allowed when the estimate collapses (the browser test
// under a real cap is test/e2e/netcap.test.ts). Read back from the real worker's stats.

type Tracker = ReturnType<typeof trackMedia>;

async function minOutgoing(s: TestServer, direction: 'send' | 'recv', tracker: Tracker) {
  const { bot, closeAll } = trackBots(() => s.wsUrl);
  try {
    const a = await bot(await createRoom(s.wsUrl, `Floor ${direction}`), 'a');
    const { id } = await a.client.request('media.createTransport', { direction });
    const t = [...tracker.transports].find((x) => x.id === id);
    assert.ok(t, 'the transport is in the worker');
    const [stats] = (await t.getStats()) as { minOutgoingBitrate?: number }[];
    return stats?.minOutgoingBitrate ?? 0;
  } finally {
    closeAll();
  }
}

describe('receive transports get a bandwidth estimate floor', () => {
  let s: TestServer | undefined;
  let tracker: Tracker | undefined;
  /** A server with `media` overrides; the tracker first, so it sees the server's worker. */
  async function server(media: Record<string, unknown>) {
    await s?.stop();
    tracker?.stop();
    tracker = trackMedia();
    s = await startTestServer({ media });
    return { s, tracker };
  }
  after(async () => {
    await s?.stop();
    tracker?.stop();
  });

  test('default: 150 kbit/s on recv transports, not on send transports', async () => {
    const { s, tracker } = await server({});
    assert.equal(await minOutgoing(s, 'recv', tracker), 150_000);
    assert.ok((await minOutgoing(s, 'send', tracker)) < 150_000, 'not on send transports');
  });

  test('media.minOutgoingBitrate sets it; 0 leaves mediasoup its default', async () => {
    const one = await server({ minOutgoingBitrate: 120_000 });
    assert.equal(await minOutgoing(one.s, 'recv', one.tracker), 120_000);
    const none = await server({ minOutgoingBitrate: 0 });
    assert.ok((await minOutgoing(none.s, 'recv', none.tracker)) < 120_000);
  });
});
