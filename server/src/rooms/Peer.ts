import type { Peer as ProtooPeer } from 'protoo-server';
import type {
  NotificationMap,
  NotificationMethod,
  ServerRequestMap,
  ServerRequestMethod,
} from '../protocol/index.ts';

/**
 * One signaling connection (a browser tab or a bot). Thin on purpose: it only knows how
 * to talk to its client and which room it sits in; the Room owns everything media.
 */
export class Peer {
  readonly id: string;
  readonly ip: string;
  /** Set once joined; the Room clears it on leave. */
  roomId: string | undefined;
  nickname: string | undefined;
  readonly #signal: ProtooPeer;

  constructor(signal: ProtooPeer, ip: string) {
    this.#signal = signal;
    this.id = signal.id;
    this.ip = ip;
  }

  get closed(): boolean {
    return this.#signal.closed;
  }

  /**
   * Fire and forget; the returned promise (never rejects) settles once the frame is
   * handed to the socket, for the rare caller that must flush before closing.
   */
  notify<M extends NotificationMethod>(method: M, data: NotificationMap[M]): Promise<void> {
    if (this.#signal.closed) return Promise.resolve();
    // notify() only fails when the socket is gone; a dead socket is cleaned up by 'close'.
    return this.#signal.notify(method, data).catch(() => {});
  }

  request<M extends ServerRequestMethod>(
    method: M,
    data: ServerRequestMap[M]['request'],
  ): Promise<ServerRequestMap[M]['response']> {
    // protoo resolves with the response *data*; @types/protoo-server mistypes it as the envelope.
    return this.#signal.request(method, data) as unknown as Promise<
      ServerRequestMap[M]['response']
    >;
  }

  close(): void {
    if (!this.#signal.closed) this.#signal.close();
  }
}
