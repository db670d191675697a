import { existsSync } from 'node:fs';
import { resolveWorkerBin } from '../../media-workers/src/index.ts';
import { BareSfu } from '../load/bare-sfu.ts';
import { PublisherBot, type BotSignaling, type NewConsumer } from '../load/bots.ts';
import { SIMULCAST_SCALES } from '../load/profile.ts';
import { loadOpusFixture, loadVp8Fixture } from '../load/rtp.ts';

/** A test's `skip` where no mediasoup worker is built (false: it runs). */
export function skipWithoutWorker(): string | false {
  const workerBin = resolveWorkerBin();
  return existsSync(workerBin) ? false : `no mediasoup worker at ${workerBin}`;
}

/** A bare mediasoup SFU in this process whose bots signal to it by direct calls. */
export interface InProcessBareSfu {
  sfu: BareSfu;
  /** A bot's signaling as peer `peerId` of the SFU (its new consumers reach its handler). */
  signaling(peerId: string): BotSignaling;
}

/** Starts a BareSfu (transports on `host`) for bots in this process. */
export async function startInProcessBareSfu(host: string): Promise<InProcessBareSfu> {
  const handlers = new Map<string, (c: NewConsumer) => Promise<void>>();
  const sfu = await BareSfu.start(
    (peer, c) => handlers.get(peer)?.(c) ?? Promise.reject(new Error('no handler')),
    undefined,
    host,
  );
  const signaling = (peerId: string): BotSignaling => ({
    createTransport: (direction) => sfu.handle(peerId, 'createTransport', { direction }),
    connectTransport: async (transportId, dtlsParameters) => {
      await sfu.handle(peerId, 'connectTransport', { transportId, dtlsParameters });
    },
    produce: async (req) => (await sfu.handle(peerId, 'produce', req)).producerId,
    ready: async (rtpCapabilities) => {
      await sfu.handle(peerId, 'ready', { rtpCapabilities });
    },
    setPreferredLayers: async (consumerId, spatialLayer) => {
      await sfu.handle(peerId, 'setPreferredLayers', { consumerId, spatialLayer });
    },
    onNewConsumer: (h) => void handlers.set(peerId, h),
    close: () => undefined,
  });
  return { sfu, signaling };
}

/**
 * A publisher bot as peer 'pub' (bound to `host`): Opus and a Chrome-like three-layer VP8
 * simulcast camera (the fixtures at SIMULCAST_SCALES). Not started.
 */
export function simulcastPublisher(bare: InProcessBareSfu, host: string): PublisherBot {
  return new PublisherBot(
    bare.signaling('pub'),
    {
      video: undefined,
      audio: loadOpusFixture(),
      simulcast: SIMULCAST_SCALES.map((s) => loadVp8Fixture(undefined, s)),
    },
    { name: 'pub', bindAddress: host },
  );
}
