import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Consumer, Producer } from 'mediasoup/types';
import {
  simulcastPublisher,
  skipWithoutWorker,
  startInProcessBareSfu,
} from '../helpers/bareSfuBots.ts';
import { SubscriberBot } from './bots.ts';

/**
 * A simulcast consumer of a bot publisher must be able to change layers, as one of a browser
 * can: mediasoup switches a consumer to another spatial layer only once it can align that
 * layer's RTP timestamps with the first one's, which takes the publisher's sender reports
 * (worker: SimulcastProducerStreamManager::CanSwitchToSpatialLayer). Publisher bots that sent
 * none left every consumer on the first layer it got: when the estimate fell under that
 * layer's rate the consumer got no layer at all, and its stream stalled (issue 12).
 */

const skip = skipWithoutWorker();
const HOST = process.env.TUTTI_TEST_BOT_HOST ?? '127.0.0.1';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await sleep(50))
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
}

test(
  'a consumer of a bot publisher moves from simulcast layer 2 to layer 0 when asked',
  { skip },
  async () => {
    const bare = await startInProcessBareSfu(HOST);
    const { sfu } = bare;
    let video: Consumer | undefined;
    let producer: Producer | undefined;
    sfu.worker.observer.on('newrouter', (r) =>
      r.observer.on('newtransport', (t) => {
        t.observer.on('newproducer', (p) => {
          if (p.kind === 'video') producer = p;
        });
        t.observer.on('newconsumer', (c) => {
          if (c.kind === 'video') video = c;
        });
      }),
    );
    const bots: { close(): void }[] = [];
    try {
      for (const peer of ['pub', 'sub']) await sfu.handle(peer, 'join', { room: 'layers' });
      const pub = simulcastPublisher(bare, HOST);
      bots.push(pub);
      await pub.start();
      let senderReports = 0;
      await until('the video producer', () => producer !== undefined, 5000);
      producer!.on('trace', (tr) => {
        if (tr.type === 'sr') senderReports++;
      });
      await producer!.enableTraceEvent(['sr']);
      const sub = new SubscriberBot(
        bare.signaling('sub'),
        { name: 'sub', bindAddress: HOST },
        'none',
        {
          profile: 'chrome',
          layer: 2,
          feedback: 'none',
        },
      );
      bots.push(sub);
      await sub.start();
      await until('the consumer on layer 2', () => video?.currentLayers?.spatialLayer === 2, 8000);
      await video!.setPreferredLayers({ spatialLayer: 0 });
      // A key frame of layer 0 is asked for at once and the bot answers within 300 ms.
      await until(
        `layer 0 (now ${JSON.stringify(video!.currentLayers ?? null)}, ${senderReports} sender reports)`,
        () => video?.currentLayers?.spatialLayer === 0,
        5000,
      );
      assert.ok(senderReports > 0, 'the publisher bot sends sender reports');
      const before = [...sub.streams.values()].find((s) => s.kind === 'video')!.stats.packets;
      await sleep(500);
      const afterSwitch = [...sub.streams.values()].find((s) => s.kind === 'video')!.stats.packets;
      assert.ok(afterSwitch > before + 5, `video flows on layer 0: ${before} → ${afterSwitch}`);
    } finally {
      for (const b of bots) b.close();
      sfu.close();
    }
  },
);
