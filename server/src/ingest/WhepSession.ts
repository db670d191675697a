import { randomBytes, randomUUID } from 'node:crypto';
import type {
  Consumer,
  DtlsParameters,
  MediaKind,
  Producer,
  Router,
  RtpCapabilities,
  WebRtcTransport,
} from 'mediasoup/types';
import {
  mediaCodecs,
  webRtcTransportOptions,
  type MediaSettings,
  type WorkerPool,
} from '@tutti/media-workers';
import { TuttiError } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { ProducerAppData } from '../rooms/mediaTypes.ts';
import type { Room } from '../rooms/Room.ts';
import { senderDtls, type WhipOffer } from './sdp.ts';
import { watchTransport } from './watch.ts';
import { transportParameters } from '../rooms/transportParameters.ts';
import { negotiateViewer, viewerRouterCodecs, type ViewerSection } from './whepSdp.ts';

/** How often the session checks whom it should show (speaker changes, tracks coming and going). */
const FOLLOW_EVERY_MS = 500;

export interface WhepSessionOptions {
  room: Room;
  pool: WorkerPool;
  media: MediaSettings;
  tokenId: string;
  /** Show this member (its peer id) instead of the active speaker. */
  participant: string | undefined;
  log: Logger;
  /** Told once when the session ended (DELETE, transport failure, room media closed…). */
  onClosed: (session: WhepSession) => void;
}

/** The producer of `member` a viewer's m-line of `kind` shows. */
const wanted = (producers: Iterable<Producer<ProducerAppData>>, kind: MediaKind) => {
  const open = [...producers].filter((p) => !p.closed && p.kind === kind);
  if (kind === 'audio') return open.find((p) => p.appData.source === 'mic');
  return open.find((p) => p.appData.source === 'camera') ?? open.find((p) => p.kind === 'video');
};

/** What one m-line shows: the consumer and the pipe that brings the producer to our router. */
interface Shown {
  consumer: Consumer;
  producerId: string;
  peerId: string;
  close(): void;
}

/**
 * One WHEP viewer: a router of its own (payload types the viewer's, see viewerRouterCodecs)
 * with one WebRTC transport and one consumer per offered m-line, of a producer piped from the
 * room's router. It is not a member (nobody sees it, it takes no seat). Every
 * FOLLOW_EVERY_MS it re-checks whom to show (#target) and when that changed (or the track
 * closed) it replaces the consumer behind the m-line (mediasoup cannot re-point a consumer;
 * the new one keeps the mid and the browser takes its new SSRC).
 */
export class WhepSession {
  readonly id = randomUUID();
  readonly resourceId = randomBytes(18).toString('base64url');
  readonly roomId: string;
  readonly tokenId: string;
  readonly #opts: WhepSessionOptions;
  readonly #log: Logger;
  #router: Router | undefined;
  #transport: WebRtcTransport | undefined;
  #sections: ViewerSection[] = [];
  #caps: RtpCapabilities | undefined;
  readonly #shown = new Map<string, Shown>();
  /** Producers whose codec the viewer's router lacks. */
  readonly #unplayable = new Set<string>();
  #closed = false;
  #following = false;
  #timers: NodeJS.Timeout[] = [];

  constructor(opts: WhepSessionOptions) {
    this.#opts = opts;
    this.roomId = opts.room.id;
    this.tokenId = opts.tokenId;
    this.#log = opts.log.child({ whep: this.id, roomId: opts.room.id });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Negotiates and starts following; returns the SDP answer. Closes again on any failure. */
  async start(offer: WhipOffer): Promise<string> {
    const { room, participant } = this.#opts;
    if (participant !== undefined && !room.hasMember(participant)) {
      throw new TuttiError('NOT_FOUND', 'no such participant in the room');
    }
    try {
      const router = await this.#opts.pool.createRouter({
        mediaCodecs: viewerRouterCodecs(offer, mediaCodecs),
        appData: { roomId: room.id, whep: this.id },
      });
      this.#router = router;
      if (this.#closed) router.close();
      const { sections, rtpCapabilities, answer } = negotiateViewer(offer, router.rtpCapabilities);
      this.#sections = sections;
      this.#caps = rtpCapabilities;
      const transport = await router.createWebRtcTransport({
        ...webRtcTransportOptions(this.#opts.media),
        appData: { direction: 'recv', peerId: this.id },
      });
      this.#transport = transport;
      transport.observer.once('close', () => this.#end('transport closed'));
      if (this.#closed) transport.close();
      await transport.connect({ dtlsParameters: senderDtls(offer) as DtlsParameters });
      this.#timers.push(
        watchTransport(
          async () =>
            transport.closed ? undefined : { ice: transport.iceState, dtls: transport.dtlsState },
          (why) => this.#end(why),
          () => this.#closed,
        ),
      );
      await this.#follow();
      const follow = setInterval(() => void this.#follow(), FOLLOW_EVERY_MS);
      follow.unref();
      this.#timers.push(follow);
      this.#log.info({ kinds: sections.map((s) => s.kind), participant }, 'WHEP viewer started');
      const ssrcs = new Map<string, number>();
      for (const [mid, shown] of this.#shown) {
        const ssrc = shown.consumer.rtpParameters.encodings?.[0]?.ssrc;
        if (ssrc !== undefined) ssrcs.set(mid, ssrc);
      }
      return answer(transportParameters(transport), ssrcs);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /**
   * Whose track of `kind` to show now: the pinned participant; else the active speaker if
   * it has one; else whoever is shown already (no flapping); else the first member with one.
   */
  #target(kind: MediaKind): Producer<ProducerAppData> | undefined {
    const { room, participant } = this.#opts;
    const of = (peerId: string | undefined) => {
      const member = peerId === undefined ? undefined : room.member(peerId);
      return member && wanted(member.media.producers(), kind);
    };
    if (participant !== undefined) return of(participant);
    const shown = [...this.#shown.values()].find((s) => s.consumer.kind === kind);
    return (
      of(room.media.speaker) ??
      of(shown?.peerId) ??
      [...room.members()].map((m) => wanted(m.media.producers(), kind)).find((p) => p)
    );
  }

  /** Makes every m-line's consumer read the right track of its kind. One run at a time. */
  async #follow(): Promise<void> {
    if (this.#following || this.#closed) return;
    this.#following = true;
    try {
      for (const section of this.#sections) {
        const producer = this.#target(section.kind);
        const current = this.#shown.get(section.mid);
        if (current && !current.consumer.closed && current.producerId === producer?.id) continue;
        current?.close();
        this.#shown.delete(section.mid);
        if (producer) await this.#consume(section, producer);
        if (this.#closed) return;
      }
    } catch (err) {
      this.#log.warn({ err }, 'WHEP viewer could not switch');
    } finally {
      this.#following = false;
    }
  }

  /** Pipes `producer` from its member's router to ours and consumes it on the m-line. */
  async #consume(section: ViewerSection, producer: Producer<ProducerAppData>): Promise<void> {
    const transport = this.#transport;
    const router = this.#router;
    const caps = this.#caps;
    const origin = this.#opts.room.media.currentRouterFor(producer.appData.peerId);
    if (!transport || transport.closed || !router || !caps || !origin) return;
    if (this.#unplayable.has(producer.id)) return;
    let piped: Awaited<ReturnType<Router['pipeToRouter']>>;
    try {
      // One worker cannot hold two producers with one id: inside a worker the pipe gets a new one.
      const keepId = origin.appData['workerPid'] !== router.appData['workerPid'];
      piped = await origin.pipeToRouter({ producerId: producer.id, router, keepId });
    } catch (err) {
      // A codec the viewer did not offer (its router lacks it): not retried every round.
      this.#unplayable.add(producer.id);
      this.#log.info({ err, producerId: producer.id }, 'WHEP viewer cannot play this track');
      return;
    }
    const { pipeConsumer, pipeProducer } = piped;
    const unpipe = () => {
      pipeProducer?.close();
      pipeConsumer?.close();
    };
    try {
      if (this.#closed || producer.closed || !pipeProducer) return unpipe();
      const consumer = await transport.consume({
        producerId: pipeProducer.id,
        rtpCapabilities: caps,
        mid: section.mid,
        enableRtx: true,
      });
      if (this.#closed) return unpipe();
      const shown: Shown = {
        consumer,
        producerId: producer.id,
        peerId: producer.appData.peerId,
        close: () => {
          consumer.close();
          unpipe();
        },
      };
      this.#shown.set(section.mid, shown);
      consumer.observer.once('close', () => {
        if (this.#shown.get(section.mid) === shown) this.#shown.delete(section.mid);
      });
    } catch (err) {
      unpipe();
      throw err;
    }
  }

  #end(why: string): void {
    if (this.#closed) return;
    this.#log.info({ why }, 'WHEP viewer ended');
    this.close();
  }

  /** Closes the transport (and its consumers). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    for (const shown of this.#shown.values()) shown.close();
    this.#shown.clear();
    this.#router?.close(); // Its transport and pipe transports with it.
    this.#opts.onClosed(this);
  }
}
