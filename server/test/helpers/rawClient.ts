import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import {
  FrameLink,
  type NewConsumer,
  type NotificationMap,
  type NotificationMethod,
  type RequestData,
  type RequestMethod,
  type ResponseMap,
} from '@tutti/protocol';

/** A protoo client on a plain `ws` socket, so a test can cut it without a close frame. */
export interface RawClient {
  ws: WebSocket;
  notifications: { method: string; data: unknown }[];
  consumers: NewConsumer[];
  request<M extends RequestMethod>(method: M, data: RequestData<M>): Promise<ResponseMap[M]>;
  seen<M extends NotificationMethod>(method: M): NotificationMap[M][];
  closed: Promise<number>;
}

/** Opens one (answering media.newConsumer with {}); `open` collects it for the clean-up. */
export async function connectRaw(wsUrl: string, open: RawClient[] = []): Promise<RawClient> {
  const ws = new WebSocket(wsUrl, 'protoo');
  const link = new FrameLink((text) => ws.send(text), { requestTimeoutMs: 15_000 });
  const notifications: { method: string; data: unknown }[] = [];
  const consumers: NewConsumer[] = [];
  link.client.onAny((n) => notifications.push(n));
  link.client.handleOther((r) => {
    if (r.method === 'media.newConsumer') consumers.push(r.data);
    return {};
  });
  ws.on('message', (data) => link.receive(data.toString()));
  const closed = new Promise<number>((resolve) =>
    ws.on('close', (code) => {
      link.close();
      resolve(code);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const client: RawClient = {
    ws,
    notifications,
    consumers,
    closed,
    request: (method, data) => link.client.request(method, data),
    seen: <M extends NotificationMethod>(method: M) =>
      notifications.filter((n) => n.method === method).map((n) => n.data as NotificationMap[M]),
  };
  open.push(client);
  return client;
}

/** Polls `check` every 25 ms; throws after `ms`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(25);
  }
}
