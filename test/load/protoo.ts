import {
  FrameLink,
  type NotificationMap,
  type NotificationMethod,
  type ProtocolClient,
  type RequestData,
  type RequestMethod,
  type ResponseMap,
  type ServerRequestHandler,
  type ServerRequestMethod,
} from '@tutti/protocol';

/**
 * A protoo peer over Node's built-in WebSocket (subprotocol "protoo") for the load bots:
 * the protocol's FrameLink does the framing, ids and timeouts, so hundreds of bots stay
 * cheap (no protoo-client, no `websocket` package) and fully typed.
 */
export class ProtooPeer {
  readonly #ws: WebSocket;
  readonly #link: FrameLink;
  readonly client: ProtocolClient;
  onClose: (() => void) | undefined;
  /**
   * Sees every text frame before it is parsed; returning true means it was handled and is
   * not parsed at all (the chat bench's peers read their notifications' timestamps this way:
   * on one box, a thousand peers parsing every frame cost more CPU than the server).
   */
  onText: ((text: string) => boolean) | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.#link = new FrameLink((text) => ws.send(text));
    this.client = this.#link.client;
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data === 'string' && this.onText?.(ev.data)) return;
      this.#link.receive(ev.data);
    });
    ws.addEventListener('close', () => this.#handleClose());
  }

  static connect(url: string, timeoutMs = 10_000): Promise<ProtooPeer> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, 'protoo');
      const timer = setTimeout(() => {
        ws.close();
        reject(new Error(`WebSocket ${url}: no open within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.addEventListener('open', () => {
        clearTimeout(timer);
        resolve(new ProtooPeer(ws));
      });
      ws.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new Error(`WebSocket ${url}: connection failed`));
      });
    });
  }

  get closed(): boolean {
    return this.#link.closed;
  }

  request<M extends RequestMethod>(
    method: M,
    data: RequestData<M>,
    timeoutMs = 15_000,
  ): Promise<ResponseMap[M]> {
    return this.client.request(method, data, timeoutMs);
  }

  handle<M extends ServerRequestMethod>(method: M, fn: ServerRequestHandler<M>): void {
    this.client.handle(method, fn);
  }

  on<M extends NotificationMethod>(method: M, fn: (data: NotificationMap[M]) => void): void {
    this.client.on(method, fn);
  }

  close(): void {
    if (this.closed) return;
    // 1000: a goodbye, so the member leaves at once (a close without a status is taken for a
    // client that found its socket dead, and its membership is kept for a resume).
    this.#ws.close(1000);
    this.#handleClose();
  }

  #handleClose(): void {
    if (this.closed) return;
    this.#link.close();
    this.onClose?.();
  }
}
