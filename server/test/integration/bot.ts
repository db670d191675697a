import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import type { JoinResult, RtpCapabilities, RtpParameters, ServerRequestMap } from '@tutti/protocol';

// A signaling-level "bot": it creates transports and produces with hand-written RTP
// parameters. No RTP actually flows (that's the browser tests' job); mediasoup still builds
// the real producers/consumers, so every signaling path is exercised against a real worker.

export const fakeDtls = {
  role: 'client' as const,
  fingerprints: [
    {
      algorithm: 'sha-256' as const,
      value: Array.from({ length: 32 }, (_, i) =>
        (i * 7 + 16).toString(16).toUpperCase().padStart(2, '0'),
      ).join(':'),
    },
  ],
};

let ssrcBase = 100_000;

export function opusParams(mid = '0'): RtpParameters {
  const ssrc = ssrcBase++;
  return {
    mid,
    codecs: [
      {
        mimeType: 'audio/opus',
        payloadType: 111,
        clockRate: 48000,
        channels: 2,
        parameters: { useinbandfec: 1 },
        rtcpFeedback: [{ type: 'transport-cc' }],
      },
    ],
    headerExtensions: [
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 },
      { uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 10 },
    ],
    encodings: [{ ssrc }],
    rtcp: { cname: `bot-${ssrc}`, reducedSize: true },
  };
}

/** VP8; simulcast with 3 encodings unless `layers` is 1 (screen). */
export function vp8Params(mid = '1', layers = 3): RtpParameters {
  const encodings = Array.from({ length: layers }, () => {
    const ssrc = ssrcBase++;
    return { ssrc, rtx: { ssrc: ssrc + 50_000 }, scalabilityMode: 'L1T3' };
  });
  return {
    mid,
    codecs: [
      {
        mimeType: 'video/VP8',
        payloadType: 96,
        clockRate: 90000,
        rtcpFeedback: [
          { type: 'nack' },
          { type: 'nack', parameter: 'pli' },
          { type: 'ccm', parameter: 'fir' },
          { type: 'goog-remb' },
          { type: 'transport-cc' },
        ],
      },
      { mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 } },
    ],
    headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 }],
    encodings,
    rtcp: { cname: `bot-${encodings[0]!.ssrc}`, reducedSize: true },
  };
}

export type NewConsumer = ServerRequestMap['media.newConsumer']['request'];

export interface Bot {
  client: SignalingClient;
  join: JoinResult;
  sendTransportId: string;
  recvTransportId: string;
  /** media.newConsumer requests received (answered with {}). */
  consumers: NewConsumer[];
  produce(source: 'mic' | 'camera' | 'screen' | 'screen-audio', paused?: boolean): Promise<string>;
  /** Recreate transports + ready (after media.restart). */
  setupMedia(): Promise<void>;
  waitConsumers(n: number, timeoutMs?: number): Promise<NewConsumer[]>;
}

export async function joinBot(
  wsUrl: string,
  roomId: string,
  nickname: string,
  password?: string,
): Promise<Bot> {
  const client = await connectSignaling(wsUrl);
  const consumers: NewConsumer[] = [];
  const waiters = new Set<() => void>();
  client.onRequest((method, data) => {
    if (method === 'media.newConsumer') {
      consumers.push(data);
      for (const w of [...waiters]) w();
    }
    return {};
  });
  const join = await client.request('room.join', {
    roomId,
    nickname,
    ...(password ? { password } : {}),
  });
  let caps: RtpCapabilities = join.routerRtpCapabilities;
  const bot: Bot = {
    client,
    join,
    sendTransportId: '',
    recvTransportId: '',
    consumers,
    async setupMedia() {
      caps = (await client.request('media.getRouterRtpCapabilities', {})).rtpCapabilities;
      const send = await client.request('media.createTransport', { direction: 'send' });
      const recv = await client.request('media.createTransport', { direction: 'recv' });
      await client.request('media.connectTransport', {
        transportId: send.id,
        dtlsParameters: fakeDtls,
      });
      await client.request('media.connectTransport', {
        transportId: recv.id,
        dtlsParameters: fakeDtls,
      });
      bot.sendTransportId = send.id;
      bot.recvTransportId = recv.id;
      await client.request('media.ready', { rtpCapabilities: caps });
    },
    async produce(source, paused) {
      const kind = source === 'mic' || source === 'screen-audio' ? 'audio' : 'video';
      const mid = { mic: '0', camera: '1', screen: '2', 'screen-audio': '3' }[source];
      const rtpParameters =
        kind === 'audio' ? opusParams(mid) : vp8Params(mid, source === 'camera' ? 3 : 1);
      const { producerId } = await client.request('media.produce', {
        transportId: bot.sendTransportId,
        kind,
        rtpParameters,
        source,
        ...(paused !== undefined ? { paused } : {}),
      });
      return producerId;
    },
    waitConsumers(n, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (consumers.length >= n) {
            clearTimeout(t);
            waiters.delete(check);
            resolve(consumers.slice(0, n));
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${n} consumers, got ${consumers.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
  return bot;
}

/** Creates a room on a throwaway connection and resolves with its id. */
export async function createRoom(wsUrl: string, name: string): Promise<string> {
  const c = await connectSignaling(wsUrl);
  const r = await c.request('room.create', { name });
  c.close();
  return r.room.id;
}

export interface BotTracker {
  /** joinBot, remembering the bot for closeAll(). */
  bot(roomId: string, nickname: string): Promise<Bot>;
  /** Closes every bot joined so far (and forgets them). */
  closeAll(): void;
}

/** `wsUrl` is read on each join, so the server may be started after this is called. */
export function trackBots(wsUrl: () => string): BotTracker {
  const bots: Bot[] = [];
  return {
    async bot(roomId, nickname) {
      const b = await joinBot(wsUrl(), roomId, nickname);
      bots.push(b);
      return b;
    },
    closeAll() {
      for (const b of bots.splice(0)) b.client.close();
    },
  };
}

/** Resolves with the protoo error code of a rejected promise (fails if it resolved). */
export async function rejectCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const m = /^([A-Z_]+):/.exec(err instanceof Error ? err.message : String(err));
    return m ? m[1]! : `no code: ${String(err)}`;
  }
  throw new Error('expected the request to be rejected');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
