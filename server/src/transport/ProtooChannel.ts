import type { Peer as ProtooPeer } from 'protoo-server';
import type {
  NotificationMap,
  NotificationMethod,
  ServerRequestMap,
  ServerRequestMethod,
} from '@tutti/protocol';
import type { MemberChannel, PreparedNotification } from '../rooms/ports.ts';
import { HANDED_ON } from './WsTransport.ts';

/** Sends a notification serialized (and framed) once for many sockets (our WsTransport). */
export interface RawSender {
  sendPrepared(prepared: PreparedNotification): Promise<void>;
}

/**
 * One protoo connection (a browser tab or a bot) as a room member channel. Thin on purpose:
 * it only knows how to talk to its client; which room it sits in is the rooms' business.
 */
export class ProtooChannel implements MemberChannel {
  readonly id: string;
  readonly ip: string;
  readonly #signal: ProtooPeer;
  readonly #raw: RawSender | undefined;

  /** `raw`: the connection's transport, for prepared notifications (else they go through protoo). */
  constructor(signal: ProtooPeer, ip: string, raw?: RawSender) {
    this.#signal = signal;
    this.#raw = raw;
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

  /**
   * Like notify(), with a notification serialized once for many recipients: its WebSocket
   * frame is built once too and goes to the socket as is. Keeps its order relative to
   * notify() (both hand the frame to the socket synchronously).
   */
  notifyPrepared(prepared: PreparedNotification): Promise<void> {
    if (this.#signal.closed) return Promise.resolve();
    if (!this.#raw) return this.#signal.notify(prepared.method, prepared.data).catch(() => {});
    const sent = this.#raw.sendPrepared(prepared);
    // Handed on (the shared settled promise): nothing to catch, no promise per recipient.
    return sent === HANDED_ON ? sent : sent.catch(() => {});
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
