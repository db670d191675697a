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
import { webRtcTransportOptions, type MediaSettings } from '@tutti/media-workers';
import { TuttiError } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { ProducerAppData } from '../rooms/mediaTypes.ts';
import type { Room } from '../rooms/Room.ts';
import { senderDtls, type WhipOffer } from './sdp.ts';
import { watchTransport } from './watch.ts';
import { negotiateViewer, type ViewerSection } from './whepSdp.ts';

/** How often the session checks whom it should show (speaker changes, tracks coming and going). */
const FOLLOW_EVERY_MS = 500;

export interface WhepSessionOptions {
  room: Room;
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

/**
 * One WHEP viewer: a WebRTC transport on one of the room's routers with one consumer per
 * offered m-line. It is not a member (nobody sees it, it takes no seat). Every
 * FOLLOW_EVERY_MS it re-checks whom to show — the chosen participant, else the active
 * speaker, else the first member with a camera — and when that changed (or the track closed)
 * it replaces the consumer behind the m-line (mediasoup cannot re-point a consumer; the new
 * one keeps the mid and the browser takes its new SSRC).
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
  readonly #consumers = new Map<string, Consumer>();
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

  /** The peer id shown right now (tests, logs). */
  get showing(): string | undefined {
    return [...this.#consumers.values()][0]?.appData.peerId as string | undefined;
  }

  /** Negotiates and starts following; returns the SDP answer. Closes again on any failure. */
  async start(offer: WhipOffer): Promise<string> {
    const { room } = this.#opts;
    if (room.size === 0)
      throw new TuttiError('NOT_FOUND', 'nothing to play: nobody is in the room');
    const { participant } = this.#opts;
    if (participant !== undefined && !room.hasMember(participant)) {
      throw new TuttiError('NOT_FOUND', 'no such participant in the room');
    }
    try {
      // Not a member: routerFor() does not place it, it just returns a router of the room.
      const router = await room.media.routerFor(this.id);
      this.#router = router;
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
      return answer({
        id: transport.id,
        iceParameters: transport.iceParameters,
        iceCandidates: transport.iceCandidates,
        dtlsParameters: transport.dtlsParameters,
      });
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Whose tracks to show now. */
  #target(): string | undefined {
    const { room, participant } = this.#opts;
    if (participant !== undefined) return participant;
    const speaker = room.media.speaker;
    if (speaker !== undefined && room.hasMember(speaker)) return speaker;
    const members = [...room.members()];
    return (members.find((m) => wanted(m.media.producers(), 'video')) ?? members[0])?.id;
  }

  /** Makes every m-line's consumer read the target's track of its kind. One run at a time. */
  async #follow(): Promise<void> {
    if (this.#following || this.#closed) return;
    this.#following = true;
    try {
      const target = this.#target();
      const member = target === undefined ? undefined : this.#opts.room.member(target);
      for (const section of this.#sections) {
        const producer = member && wanted(member.media.producers(), section.kind);
        const current = this.#consumers.get(section.mid);
        if (current && !current.closed && current.appData.producerId === producer?.id) continue;
        current?.close();
        this.#consumers.delete(section.mid);
        if (producer) await this.#consume(section, producer);
        if (this.#closed) return;
      }
    } catch (err) {
      this.#log.warn({ err }, 'WHEP viewer could not switch');
    } finally {
      this.#following = false;
    }
  }

  async #consume(section: ViewerSection, producer: Producer<ProducerAppData>): Promise<void> {
    const transport = this.#transport;
    const caps = this.#caps;
    if (!transport || transport.closed || !caps) return;
    // The producer's member may be on another router of the room: piped to ours first.
    const reached = await this.#opts.room.media.reach(producer, this.#router!);
    try {
      if (this.#closed || producer.closed) return;
      const consumer = await transport.consume({
        producerId: reached.producerId,
        rtpCapabilities: caps,
        mid: section.mid,
        enableRtx: true,
        appData: { peerId: producer.appData.peerId, producerId: producer.id },
      });
      if (this.#closed) return consumer.close();
      this.#consumers.set(section.mid, consumer);
      consumer.observer.once('close', () => {
        if (this.#consumers.get(section.mid) === consumer) this.#consumers.delete(section.mid);
      });
    } finally {
      reached.release();
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
    this.#transport?.close();
    this.#opts.onClosed(this);
  }
}
