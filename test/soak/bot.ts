import { errorCodeOf } from '@tutti/protocol';
import type { SharedFile } from '@tutti/protocol';
import { PublisherBot, SubscriberBot, type BotSignaling, type NewConsumer } from '../load/bots.ts';
import type { FixtureTrack } from '../load/rtp.ts';
import { TuttiSignaling } from '../load/signaling.ts';

/**
 * One soak bot: a protoo connection in a room that may publish (real RTP through
 * node-datachannel), subscribe, pause and resume, chat and upload files, then leave in one
 * of three ways. Every failed request is handed to `onError` with its method and code.
 */

export type Media = { video: FixtureTrack | undefined; audio: FixtureTrack | undefined };

export interface BotContext {
  httpUrl: string;
  wsUrl: string;
  /** Local address the bots' ICE binds to (the server's host: 127.0.0.1 by default). */
  bindAddress: string;
  /** A failed request: the soak tallies codes (INTERNAL fails it). */
  onError(what: string, err: unknown): void;
}

/**
 * The bot's signaling as the load bots see it, minus close(): the bot owns the connection,
 * so stopping a publisher (its PeerConnection) leaves the member in the room.
 */
class SharedSignaling implements BotSignaling {
  readonly consumers = new Set<string>();
  readonly #sig: TuttiSignaling;
  constructor(sig: TuttiSignaling) {
    this.#sig = sig;
    sig.peer.on('media.consumerClosed', ({ consumerId }) => this.consumers.delete(consumerId));
  }
  createTransport: BotSignaling['createTransport'] = (d) => this.#sig.createTransport(d);
  connectTransport: BotSignaling['connectTransport'] = (id, dtls) =>
    this.#sig.connectTransport(id, dtls);
  produce: BotSignaling['produce'] = (req) => this.#sig.produce(req);
  ready: BotSignaling['ready'] = (caps) => this.#sig.ready(caps);
  setPreferredLayers: BotSignaling['setPreferredLayers'] = (id, layer) =>
    this.#sig.setPreferredLayers(id, layer);
  onNewConsumer(handler: (c: NewConsumer) => Promise<void>): void {
    this.#sig.onNewConsumer(async (c) => {
      await handler(c);
      this.consumers.add(c.id);
    });
  }
  close(): void {}
}

export class SoakBot {
  readonly name: string;
  readonly roomId: string;
  readonly bornAt = Date.now();
  readonly #ctx: BotContext;
  #sig: TuttiSignaling | undefined;
  #shared: SharedSignaling | undefined;
  #publisher: PublisherBot | undefined;
  #subscriber: SubscriberBot | undefined;
  readonly #others = new Set<string>();
  #gone = false;
  readonly #paused = new Set<string>();

  constructor(ctx: BotContext, name: string, roomId: string) {
    this.#ctx = ctx;
    this.name = name;
    this.roomId = roomId;
  }

  /** Members who joined after this bot and are still there. */
  get others(): string[] {
    return [...this.#others];
  }
  get publishing(): boolean {
    return this.#publisher !== undefined;
  }
  get subscribing(): boolean {
    return this.#subscriber !== undefined;
  }
  get gone(): boolean {
    return this.#gone;
  }

  async join(): Promise<boolean> {
    return this.#try('room.join', async () => {
      const sig = await TuttiSignaling.join(this.#ctx.wsUrl, this.roomId, this.name);
      // Told to leave while joining: go at once.
      if (this.#gone) return sig.close();
      this.#sig = sig;
      this.#shared = new SharedSignaling(sig);
      sig.peer.onClose = () => (this.#gone = true);
      // Peers who join after us: whom private messages go to.
      sig.peer.on('room.peerJoined', ({ peer }) => this.#others.add(peer.id));
      sig.peer.on('room.peerLeft', ({ peerId }) => this.#others.delete(peerId));
    });
  }

  /** Starts publishing (a new send transport replaces any earlier one on the server). */
  async publish(media: Media): Promise<boolean> {
    const shared = this.#shared;
    if (!shared || this.#publisher || this.#gone) return false;
    const publisher = new PublisherBot(shared, media, {
      name: this.name,
      bindAddress: this.#ctx.bindAddress,
    });
    this.#publisher = publisher;
    const ok = await this.#try('publish', () => publisher.start());
    if (this.#gone) publisher.close(); // left meanwhile: leave() may have missed it
    return ok;
  }

  /** Closes the producers, then the PeerConnection; the member stays. */
  async unpublish(): Promise<void> {
    const publisher = this.#publisher;
    if (!publisher || !this.#sig) return;
    this.#publisher = undefined;
    for (const producerId of publisher.producerIds) {
      await this.#try('media.closeProducer', () =>
        this.#sig!.peer.request('media.closeProducer', { producerId }),
      );
    }
    publisher.close();
  }

  async subscribe(): Promise<boolean> {
    const shared = this.#shared;
    if (!shared || this.#subscriber || this.#gone) return false;
    const subscriber = new SubscriberBot(
      shared,
      { name: this.name, bindAddress: this.#ctx.bindAddress },
      'none',
    );
    this.#subscriber = subscriber;
    const ok = await this.#try('subscribe', () => subscriber.start());
    if (this.#gone) subscriber.close();
    return ok;
  }

  /** Pauses a running producer or consumer of ours, or resumes a paused one. */
  async togglePause(pick: <T>(list: T[]) => T | undefined): Promise<void> {
    const sig = this.#sig;
    if (!sig) return;
    const producers = this.#publisher?.producerIds ?? [];
    const consumers = [...(this.#shared?.consumers ?? [])];
    const id = pick([...producers, ...consumers]);
    if (id === undefined) return;
    const isProducer = producers.includes(id);
    const resume = this.#paused.has(id);
    if (resume) this.#paused.delete(id);
    else this.#paused.add(id);
    if (isProducer) {
      const method = resume ? 'media.resumeProducer' : 'media.pauseProducer';
      await this.#try(method, () => sig.peer.request(method, { producerId: id }));
    } else {
      const method = resume ? 'media.resumeConsumer' : 'media.pauseConsumer';
      await this.#try(method, () => sig.peer.request(method, { consumerId: id }));
    }
  }

  async chat(text: string, to?: string): Promise<void> {
    const sig = this.#sig;
    if (!sig) return;
    await this.#try('chat.send', () => sig.peer.request('chat.send', to ? { text, to } : { text }));
  }

  /** files.uploadToken, POST /api/files, then GET the file back. */
  async upload(name: string, body: string): Promise<boolean> {
    const sig = this.#sig;
    if (!sig) return false;
    return this.#try('upload', async () => {
      const { token } = await sig.peer.request('files.uploadToken', {});
      const form = new FormData();
      form.append('file', new Blob([body], { type: 'text/plain' }), name);
      const res = await fetch(`${this.#ctx.httpUrl}/api/files?token=${encodeURIComponent(token)}`, {
        method: 'POST',
        body: form,
        // No keep-alive: sockets close with the request, so the end count is exact.
        headers: { connection: 'close' },
        signal: AbortSignal.timeout(15_000),
      });
      const json = (await res.json()) as { message?: { file?: SharedFile }; error?: string };
      if (res.status !== 201) throw new Error(`${json.error ?? 'HTTP'}: upload ${res.status}`);
      const url = json.message?.file?.url;
      if (!url) throw new Error('INTERNAL: upload answer has no file url');
      const dl = await fetch(this.#ctx.httpUrl + url, {
        headers: { connection: 'close' },
        signal: AbortSignal.timeout(15_000),
      });
      const text = await dl.text();
      if (dl.status !== 200 || text !== body) throw new Error(`download ${dl.status}`);
    });
  }

  /** Leaves: `graceful` room.leave then close, `drop` the socket only, `media-first` PCs first. */
  async leave(how: 'graceful' | 'drop' | 'media-first'): Promise<void> {
    const sig = this.#sig;
    this.#gone = true;
    if (how === 'media-first' || how === 'drop') {
      this.#publisher?.close();
      this.#subscriber?.close();
    }
    if (how === 'graceful' && sig && !sig.peer.closed) {
      await this.#try('room.leave', () => sig.peer.request('room.leave', {}));
      this.#publisher?.close();
      this.#subscriber?.close();
    }
    sig?.close();
    this.#publisher = undefined;
    this.#subscriber = undefined;
  }

  async #try(what: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      // A request cut short by our own leave is not the server's fault.
      if (this.#gone && errorCodeOf(err) !== 'INTERNAL') return false;
      this.#ctx.onError(what, err);
      return false;
    }
  }
}
