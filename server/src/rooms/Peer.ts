import type { Peer as ProtooPeer } from 'protoo-server';
import type {
  NotificationMap,
  NotificationMethod,
  ServerRequestMap,
  ServerRequestMethod,
} from '@tutti/protocol';
import type { MemberChannel, Membership, PreparedNotification } from './ports.ts';

export { prepareNotification, type PreparedNotification } from './ports.ts';

/** Sends a serialized protoo message as is (our WsTransport). */
export interface RawSender {
  sendRaw(text: string): Promise<void>;
}

/**
 * One signaling connection (a browser tab or a bot): the protoo MemberChannel. Thin on
 * purpose: it only knows how to talk to its client; the rooms module keeps who is where.
 */
export class Peer implements MemberChannel {
  readonly id: string;
  readonly ip: string;
  readonly #signal: ProtooPeer;
  readonly #raw: RawSender | undefined;
  readonly #membership: (() => Membership | undefined) | undefined;
  #roomId: string | undefined;
  #nickname: string | undefined;

  /**
   * `raw`: the peer's transport, for prepared notifications (else they go through protoo).
   * `membership`: where the rooms module says this connection sits (RoomDirectory).
   */
  constructor(
    signal: ProtooPeer,
    ip: string,
    raw?: RawSender,
    membership?: () => Membership | undefined,
  ) {
    this.#signal = signal;
    this.#raw = raw;
    this.#membership = membership;
    this.id = signal.id;
    this.ip = ip;
  }

  // Transitional, for chat and files until they ask RoomDirectory.membership() themselves:
  // read from the rooms module; a value set here only serves unit tests without rooms.
  get roomId(): string | undefined {
    return this.#membership ? this.#membership()?.roomId : this.#roomId;
  }

  set roomId(value: string | undefined) {
    this.#roomId = value;
  }

  get nickname(): string | undefined {
    return this.#membership ? this.#membership()?.nickname : this.#nickname;
  }

  set nickname(value: string | undefined) {
    this.#nickname = value;
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
   * Like notify(), with a notification serialized once for many recipients: its string
   * goes to the socket as is. Keeps its order relative to notify() (both hand the frame
   * to the socket synchronously).
   */
  notifyPrepared(prepared: PreparedNotification): Promise<void> {
    if (this.#signal.closed) return Promise.resolve();
    if (!this.#raw) return this.#signal.notify(prepared.method, prepared.data).catch(() => {});
    return this.#raw.sendRaw(prepared.text).catch(() => {});
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
