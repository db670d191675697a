import { ProtocolClient, type ProtocolClientOptions } from './client.ts';
import { parseFrame, type Answer, type ProtooFrame, type RequestFrame } from './frames.ts';

/**
 * A ProtocolClient speaking protoo frames itself, over anything that carries text (a
 * browser or Node WebSocket with subprotocol "protoo", a test pipe): it numbers requests,
 * pairs answers with them and answers server requests. The owner feeds it what arrives
 * (`receive`) and tells it when the socket is gone (`close`).
 *
 *   const link = new FrameLink((text) => ws.send(text));
 *   ws.addEventListener('message', (ev) => link.receive(ev.data));
 *   ws.addEventListener('close', () => link.close());
 *   await link.client.request('room.join', { roomId, nickname });
 */
export class FrameLink {
  readonly client: ProtocolClient;
  readonly #sendText: (text: string) => void;
  readonly #pending = new Map<
    number,
    { resolve: (data: unknown) => void; reject: (err: Error) => void }
  >();
  #nextId = Math.floor(Math.random() * 1e7);
  #closed = false;

  constructor(sendText: (text: string) => void, options?: ProtocolClientOptions) {
    this.#sendText = sendText;
    this.client = new ProtocolClient(
      (method, data, signal) => this.#request(method, data, signal),
      options,
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** One frame from the other side; anything that is not a protoo text frame is ignored. */
  receive(raw: unknown): void {
    if (this.#closed || typeof raw !== 'string') return;
    const frame = parseFrame(raw);
    if (typeof frame !== 'string') this.#dispatch(frame);
  }

  /** The connection is gone: every pending request fails, nothing more is sent. */
  close(reason = 'connection closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(new Error(reason));
  }

  #request(method: string, data: unknown, signal: AbortSignal): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error(`${method}: connection closed`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      signal.addEventListener('abort', () => this.#pending.delete(id), { once: true });
      const frame: RequestFrame = { request: true, id, method, data };
      this.#sendText(JSON.stringify(frame));
    });
  }

  #dispatch(frame: ProtooFrame): void {
    if ('response' in frame) {
      const pending = this.#pending.get(frame.id);
      if (!pending) return;
      this.#pending.delete(frame.id);
      if (frame.ok) pending.resolve(frame.data);
      else pending.reject(new Error(frame.errorReason));
    } else if ('request' in frame) {
      void this.client
        .receiveRequest(frame.method, frame.data)
        .then((answer) => this.#answer(frame.id, answer));
    } else {
      this.client.receiveNotification(frame.method, frame.data);
    }
  }

  #answer(id: number, answer: Answer): void {
    if (this.#closed) return;
    this.#sendText(JSON.stringify({ response: true, id, ...answer }));
  }
}
