import type {
  DtlsParameters,
  JoinMediaRequest,
  JoinResult,
  MediaKind,
  MediaSource,
  RtpCapabilities,
  RtpParameters,
  TransportOptions,
} from '@tutti/protocol';
import type { BotSignaling, NewConsumer } from './bots.ts';
import type { BareMethod, BareRequestMap, FromBots } from './ipc.ts';
import { ProtooPeer } from './protoo.ts';

/** Bot signaling through Tutti's public protocol: one protoo WebSocket per bot. */
export class TuttiSignaling implements BotSignaling {
  readonly peer: ProtooPeer;
  private constructor(peer: ProtooPeer) {
    this.peer = peer;
  }

  static async join(wsUrl: string, roomId: string, nickname: string): Promise<TuttiSignaling> {
    const peer = await ProtooPeer.connect(wsUrl);
    try {
      await peer.request('room.join', { roomId, nickname });
    } catch (err) {
      peer.close();
      throw err;
    }
    return new TuttiSignaling(peer);
  }

  /** The one-reply join: transports (and consumers, with capabilities) in the join answer. */
  static async joinWithMedia(
    wsUrl: string,
    roomId: string,
    nickname: string,
    media: JoinMediaRequest,
  ): Promise<{ sig: TuttiSignaling; joined: JoinResult }> {
    const peer = await ProtooPeer.connect(wsUrl);
    try {
      const joined = await peer.request('room.join', { roomId, nickname, media });
      return { sig: new TuttiSignaling(peer), joined };
    } catch (err) {
      peer.close();
      throw err;
    }
  }

  createTransport(direction: 'send' | 'recv'): Promise<TransportOptions> {
    return this.peer.request('media.createTransport', { direction });
  }
  async connectTransport(transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    await this.peer.request('media.connectTransport', { transportId, dtlsParameters });
  }
  async produce(req: {
    transportId: string;
    kind: MediaKind;
    rtpParameters: RtpParameters;
    source: MediaSource;
  }): Promise<string> {
    return (await this.peer.request('media.produce', req)).producerId;
  }
  async ready(rtpCapabilities: RtpCapabilities): Promise<void> {
    await this.peer.request('media.ready', { rtpCapabilities });
  }
  async setPreferredLayers(consumerId: string, spatialLayer: number): Promise<void> {
    await this.peer.request('media.setConsumerPreferredLayers', { consumerId, spatialLayer });
  }
  onNewConsumer(handler: (c: NewConsumer) => Promise<void>): void {
    this.peer.handle('media.newConsumer', async (c) => {
      await handler(c);
      return {};
    });
  }
  close(): void {
    this.peer.close();
  }
}

/** http://host:port → ws://host:port/ws (a ws:// URL with a path is taken as it is). */
export function signalingUrl(url: string): string {
  const u = new URL(url);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/ws';
  return u.toString();
}

/** Finds or creates the room named `name`; returns its id. */
export async function ensureRoom(wsUrl: string, name: string): Promise<string> {
  const peer = await ProtooPeer.connect(wsUrl);
  try {
    try {
      const { room } = await peer.request('room.create', { name });
      return room.id;
    } catch (err) {
      const { rooms } = await peer.request('lobby.subscribe', {});
      const found = rooms.find((r) => r.name === name);
      if (found) return found.id;
      throw err;
    }
  } finally {
    peer.close();
  }
}

/** Bot signaling over the fork() IPC channel to a controller that drives bare mediasoup. */
export class BareSignaling implements BotSignaling {
  private static nextId = 1;
  private static readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private static readonly consumerHandlers = new Map<string, (c: NewConsumer) => Promise<void>>();
  readonly peerId: string;

  constructor(peerId: string) {
    this.peerId = peerId;
  }

  static send(msg: FromBots): void {
    process.send?.(msg);
  }

  static onResponse(id: number, ok: boolean, data: unknown, error: string | undefined): void {
    const p = BareSignaling.pending.get(id);
    if (!p) return;
    BareSignaling.pending.delete(id);
    if (ok) p.resolve(data);
    else p.reject(new Error(error ?? 'bare request failed'));
  }

  static async onServerRequest(peer: string, id: number, data: NewConsumer): Promise<void> {
    const h = BareSignaling.consumerHandlers.get(peer);
    try {
      if (!h) throw new Error('no consumer handler');
      await h(data);
      BareSignaling.send({ t: 'srvres', id, ok: true });
    } catch (err) {
      BareSignaling.send({ t: 'srvres', id, ok: false, error: String(err) });
    }
  }

  request<M extends BareMethod>(
    method: M,
    data: BareRequestMap[M]['req'],
  ): Promise<BareRequestMap[M]['res']> {
    const id = BareSignaling.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        BareSignaling.pending.delete(id);
        reject(new Error(`${method}: no response`));
      }, 15_000);
      BareSignaling.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as BareRequestMap[M]['res']);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      BareSignaling.send({ t: 'sig', peer: this.peerId, id, method, data });
    });
  }

  createTransport(direction: 'send' | 'recv'): Promise<TransportOptions> {
    return this.request('createTransport', { direction });
  }
  async connectTransport(transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    await this.request('connectTransport', { transportId, dtlsParameters });
  }
  async produce(req: {
    transportId: string;
    kind: MediaKind;
    rtpParameters: RtpParameters;
    source: MediaSource;
  }): Promise<string> {
    return (await this.request('produce', req)).producerId;
  }
  async ready(rtpCapabilities: RtpCapabilities): Promise<void> {
    await this.request('ready', { rtpCapabilities });
  }
  async setPreferredLayers(consumerId: string, spatialLayer: number): Promise<void> {
    await this.request('setPreferredLayers', { consumerId, spatialLayer });
  }
  onNewConsumer(handler: (c: NewConsumer) => Promise<void>): void {
    BareSignaling.consumerHandlers.set(this.peerId, handler);
  }
  close(): void {
    BareSignaling.consumerHandlers.delete(this.peerId);
    void this.request('leave', {}).catch(() => undefined);
  }
}
