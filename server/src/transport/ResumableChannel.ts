import {
  type NotificationMap,
  type NotificationMethod,
  type ServerRequestMap,
  type ServerRequestMethod,
} from '@tutti/protocol';
import {
  prepareNotification,
  type MemberChannel,
  type PreparedNotification,
} from '../rooms/ports.ts';

/** One socket's side of a channel: what ProtooChannel offers. */
export interface SocketChannel extends MemberChannel {
  readonly ip: string;
}

export interface ResumableChannelOptions {
  /** Frames kept for a detached member; past this the membership ends (`overflow`). */
  maxBufferedBytes: number;
  /** Runs once, when the channel is finally closed (not on a detach). */
  onFinished: (channel: ResumableChannel) => void;
}

/**
 * The MemberChannel rooms and concerns hold for one member, over whichever socket carries it
 * now. Its id is the first socket's; a later socket can take over (session.resume) without
 * the rooms noticing. While no socket is attached (a network blip) notifications are kept in
 * order and replayed on the next attach, and server requests wait for it.
 */
export class ResumableChannel implements MemberChannel {
  readonly id: string;
  readonly #opts: ResumableChannelOptions;
  #socket: SocketChannel | null;
  #lastIp: string;
  #buffer: PreparedNotification[] = [];
  #bufferBytes = 0;
  #attachWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  #closing = false;
  #finished = false;
  /** Set once another channel took this one's socket over (a resume): requests go there. */
  #movedTo: ResumableChannel | undefined;

  constructor(socket: SocketChannel, opts: ResumableChannelOptions, id = socket.id) {
    this.id = id;
    this.#socket = socket;
    this.#lastIp = socket.ip;
    this.#opts = opts;
  }

  get ip(): string {
    return this.#socket?.ip ?? this.#lastIp;
  }

  /** Finally closed: a detached channel is still open (its member keeps its seat). */
  get closed(): boolean {
    return this.#finished;
  }

  get attached(): boolean {
    return this.#socket !== null;
  }

  /** close() was asked for (kick, room deleted): a socket close then is final, not a blip. */
  get closing(): boolean {
    return this.#closing;
  }

  /** The channel this socket's requests belong to now (itself, or the one it resumed). */
  get current(): ResumableChannel {
    return this.#movedTo?.current ?? this;
  }

  /** Whether `socket` is the one attached now (a replaced socket's close means nothing). */
  carries(socket: SocketChannel): boolean {
    return this.#socket === socket;
  }

  notify<M extends NotificationMethod>(method: M, data: NotificationMap[M]): Promise<void> {
    if (this.#finished) return Promise.resolve();
    if (this.#socket) return this.#socket.notify(method, data);
    this.#keep(prepareNotification(method, data));
    return Promise.resolve();
  }

  notifyPrepared(prepared: PreparedNotification): Promise<void> {
    if (this.#finished) return Promise.resolve();
    if (this.#socket) return this.#socket.notifyPrepared(prepared);
    this.#keep(prepared);
    return Promise.resolve();
  }

  async request<M extends ServerRequestMethod>(
    method: M,
    data: ServerRequestMap[M]['request'],
  ): Promise<ServerRequestMap[M]['response']> {
    for (;;) {
      if (!this.#socket) await this.#attachedAgain();
      const socket = this.#socket;
      if (!socket || this.#finished) throw new Error('connection closed');
      try {
        return await socket.request(method, data);
      } catch (err) {
        // The socket went away under the request (a drop, a resume taking over): ask again
        // on the next one (the client answers a repeat it already handled).
        if (this.#finished || this.#socket === socket) throw err;
      }
    }
  }

  /** Disconnects the member for good (kick, room deleted, membership over). */
  close(): void {
    if (this.#finished) return;
    this.#closing = true;
    if (this.#socket)
      this.#socket.close(); // Its 'close' event finishes the channel.
    else this.finish();
  }

  /** The socket dropped but the member keeps its seat for now. */
  detach(): void {
    this.#socket = null;
  }

  /**
   * `from`'s socket carries this channel from now on (session.resume on a new socket). A
   * socket still attached here (half-open, its peer gone) is closed without ending anything.
   */
  adopt(from: ResumableChannel): void {
    const socket = from.#socket;
    if (!socket || this.#finished) throw new Error('nothing to adopt');
    from.#socket = null;
    from.#movedTo = this;
    from.finish();
    const old = this.#socket;
    this.#socket = socket;
    this.#lastIp = socket.ip;
    old?.close();
    const replay = this.#buffer;
    this.#buffer = [];
    this.#bufferBytes = 0;
    for (const prepared of replay) void socket.notifyPrepared(prepared);
    const waiters = this.#attachWaiters;
    this.#attachWaiters = [];
    for (const w of waiters) w.resolve();
  }

  /**
   * A channel under `id` (a member handed over by another node) carried by `from`'s socket
   * from now on; `from` is finished (its requests go to the new channel).
   */
  static carrying(id: string, from: ResumableChannel, opts: ResumableChannelOptions) {
    const socket = from.#socket;
    if (!socket || from.#finished) throw new Error('nothing to carry');
    const channel = new ResumableChannel(socket, opts, id);
    from.#socket = null;
    from.#movedTo = channel;
    from.finish();
    return channel;
  }

  /** The notifications kept while detached, handed to another node (this node keeps none). */
  takeKept(): PreparedNotification[] {
    const kept = this.#buffer;
    this.#buffer = [];
    this.#bufferBytes = 0;
    return kept;
  }

  /** Final close: calls onFinished once; waiting requests fail, kept frames are dropped. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#buffer = [];
    this.#bufferBytes = 0;
    const waiters = this.#attachWaiters;
    this.#attachWaiters = [];
    for (const w of waiters) w.reject(new Error('connection closed'));
    const socket = this.#socket;
    this.#socket = null;
    socket?.close();
    this.#opts.onFinished(this);
  }

  #keep(prepared: PreparedNotification): void {
    this.#buffer.push(prepared);
    this.#bufferBytes += prepared.text.length;
    // A member away too long for its backlog is not coming back to a consistent room.
    if (this.#bufferBytes > this.#opts.maxBufferedBytes) this.finish();
  }

  #attachedAgain(): Promise<void> {
    if (this.#finished) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => this.#attachWaiters.push({ resolve, reject }));
  }
}
