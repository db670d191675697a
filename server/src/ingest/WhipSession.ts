import { randomBytes, randomUUID } from 'node:crypto';
import type { DtlsParameters } from 'mediasoup/types';
import {
  TuttiError,
  type NotificationMap,
  type NotificationMethod,
  type ServerRequestMap,
  type ServerRequestMethod,
} from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { MemberChannel, PreparedNotification } from '../rooms/ports.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { serverRtpCapabilities } from '../rooms/joinMedia.ts';
import { negotiate, senderDtls, type WhipOffer } from './sdp.ts';
import { watchTransport, type TransportState } from './watch.ts';

export interface WhipSessionOptions {
  rooms: RoomRegistry;
  roomId: string;
  nickname: string;
  tokenId: string;
  ip: string;
  log: Logger;
  /** Told once when the session ended (DELETE, transport failure, room closed…). */
  onClosed: (session: WhipSession) => void;
}

/**
 * One WHIP publisher (RFC 9725) as a room member (Galène's way): it joins through the
 * registry like a browser (capacity, nickname de-dup), creates its send transport and
 * produces through the member's media API. It hears nothing (notifications are dropped) and
 * consumes nothing (it never says media.ready). It leaves on DELETE, when its room closes, or
 * when its transport fails or never connects.
 */
export class WhipSession implements MemberChannel {
  readonly id = randomUUID();
  /** The resource id in the Location URL: secret, unlike the member id other members see. */
  readonly resourceId = randomBytes(18).toString('base64url');
  readonly ip: string;
  readonly roomId: string;
  readonly tokenId: string;
  readonly #opts: WhipSessionOptions;
  readonly #log: Logger;
  #closed = false;
  #watch: NodeJS.Timeout | undefined;

  constructor(opts: WhipSessionOptions) {
    this.#opts = opts;
    this.ip = opts.ip;
    this.roomId = opts.roomId;
    this.tokenId = opts.tokenId;
    this.#log = opts.log.child({ whip: this.id, roomId: opts.roomId });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Joins, negotiates and produces; returns the SDP answer. Leaves again on any failure. */
  async start(offer: WhipOffer): Promise<string> {
    const { rooms } = this.#opts;
    // Negotiated before joining, so a bad offer is refused before the room sees a participant
    // come and go (every router offers the server's capabilities: serverRtpCapabilities).
    const { tracks, answer } = negotiate(offer, serverRtpCapabilities());
    const dtls = senderDtls(offer) as DtlsParameters;
    await rooms.join(this, this.roomId, { nickname: this.#opts.nickname }, undefined);
    try {
      const media = rooms.requireMember(this).member.media;
      const transport = await media.createTransport('send');
      await media.connectTransport(transport.id, dtls);
      for (const track of tracks) {
        await media.produce({
          transportId: transport.id,
          kind: track.kind,
          rtpParameters: track.rtpParameters,
          source: track.kind === 'audio' ? 'mic' : 'camera',
        });
      }
      this.#watch = watchTransport(
        () => this.#transportState(transport.id),
        (why) => this.#end(why),
        () => this.#closed,
      );
      this.#log.info({ tracks: tracks.map((t) => t.kind) }, 'WHIP ingest started');
      return answer(transport);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  async #transportState(transportId: string): Promise<TransportState> {
    try {
      const member = this.#opts.rooms.requireMember(this).member;
      const stats = (await member.media.getStats('transport', transportId)) as {
        iceState?: string;
        dtlsState?: string;
      }[];
      const s = stats[0];
      return s && { ice: s.iceState ?? 'new', dtls: s.dtlsState ?? 'new' };
    } catch {
      return undefined;
    }
  }

  #end(why: string): void {
    this.#log.info({ why }, 'WHIP ingest ended');
    this.close();
  }

  // ── MemberChannel ───────────────────────────────────────────────────────────────────

  notify<M extends NotificationMethod>(_method: M, _data: NotificationMap[M]): Promise<void> {
    return Promise.resolve();
  }

  notifyPrepared(_prepared: PreparedNotification): Promise<void> {
    return Promise.resolve();
  }

  request<M extends ServerRequestMethod>(
    method: M,
    _data: ServerRequestMap[M]['request'],
  ): Promise<ServerRequestMap[M]['response']> {
    return Promise.reject(
      new TuttiError('UNKNOWN_METHOD', `a WHIP ingest does not take ${method}`),
    );
  }

  /** Leaves the room (its transport, and with it the producers, close). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watch);
    this.#opts.rooms.connectionClosed(this);
    this.#opts.onClosed(this);
  }
}
