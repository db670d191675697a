import type {
  NotificationMap,
  NotificationMethod,
  RequestData,
  RequestMethod,
  ResponseMap,
  ServerRequestMap,
  ServerRequestMethod,
} from '@tutti/protocol';

/**
 * A minimal protoo peer over Node's built-in WebSocket (subprotocol "protoo"): requests with
 * ids and timeouts, notifications, and answers to server requests. The load bots use this
 * instead of protoo-client so that hundreds of them stay cheap and fully typed.
 */

interface WireRequest {
  request: true;
  id: number;
  method: string;
  data?: unknown;
}
interface WireResponse {
  response: true;
  id: number;
  ok: boolean;
  data?: unknown;
  errorCode?: number;
  errorReason?: string;
}
interface WireNotification {
  notification: true;
  method: string;
  data?: unknown;
}
type WireMessage = WireRequest | WireResponse | WireNotification;

type ServerRequestHandler = {
  [M in ServerRequestMethod]?: (
    data: ServerRequestMap[M]['request'],
  ) => Promise<ServerRequestMap[M]['response']>;
};

export class ProtooPeer {
  private readonly ws: WebSocket;
  private nextId = Math.floor(Math.random() * 1e7);
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private readonly handlers: ServerRequestHandler = {};
  private readonly listeners = new Map<string, ((data: unknown) => void)[]>();
  closed = false;
  onClose: (() => void) | undefined;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener('message', (ev) => this.onMessage(ev.data));
    ws.addEventListener('close', () => this.handleClose());
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

  request<M extends RequestMethod>(
    method: M,
    data: RequestData<M>,
    timeoutMs = 15_000,
  ): Promise<ResponseMap[M]> {
    if (this.closed) return Promise.reject(new Error(`${method}: connection closed`));
    const id = this.nextId++;
    return new Promise<ResponseMap[M]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.ws.send(JSON.stringify({ request: true, id, method, data }));
    });
  }

  handle<M extends ServerRequestMethod>(
    method: M,
    fn: (data: ServerRequestMap[M]['request']) => Promise<ServerRequestMap[M]['response']>,
  ): void {
    (this.handlers as Record<string, unknown>)[method] = fn;
  }

  on<M extends NotificationMethod>(method: M, fn: (data: NotificationMap[M]) => void): void {
    const list = this.listeners.get(method) ?? [];
    list.push(fn as (data: unknown) => void);
    this.listeners.set(method, list);
  }

  close(): void {
    if (this.closed) return;
    this.ws.close();
    this.handleClose();
  }

  private handleClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('connection closed'));
    }
    this.pending.clear();
    this.onClose?.();
  }

  private onMessage(raw: unknown): void {
    if (typeof raw !== 'string') return;
    let msg: WireMessage;
    try {
      msg = JSON.parse(raw) as WireMessage;
    } catch {
      return;
    }
    if ('response' in msg) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.data ?? {});
      else p.reject(new Error(msg.errorReason ?? `error ${msg.errorCode ?? '?'}`));
    } else if ('request' in msg) {
      void this.answer(msg);
    } else if ('notification' in msg) {
      for (const fn of this.listeners.get(msg.method) ?? []) fn(msg.data);
    }
  }

  private async answer(msg: WireRequest): Promise<void> {
    const fn = (this.handlers as Record<string, ((d: unknown) => Promise<unknown>) | undefined>)[
      msg.method
    ];
    let reply: WireResponse;
    if (!fn) {
      reply = { response: true, id: msg.id, ok: false, errorCode: 405, errorReason: 'unhandled' };
    } else {
      try {
        reply = { response: true, id: msg.id, ok: true, data: await fn(msg.data) };
      } catch (err) {
        reply = {
          response: true,
          id: msg.id,
          ok: false,
          errorCode: 500,
          errorReason: err instanceof Error ? err.message : String(err),
        };
      }
    }
    if (!this.closed) this.ws.send(JSON.stringify(reply));
  }
}
