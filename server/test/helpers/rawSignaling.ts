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
import { fakeDtls, opusParams, vp8Params } from '../integration/bot.ts';

/** A protoo client on a plain `ws` socket, so a test can cut it without a close frame. */
export interface RawClient {
  ws: WebSocket;
  notifications: { method: string; data: unknown }[];
  /** media.newConsumer offers received (each is accepted). */
  consumers: NewConsumer[];
  request<M extends RequestMethod>(method: M, data: RequestData<M>): Promise<ResponseMap[M]>;
  /** Notifications of one method received so far. */
  seen<M extends NotificationMethod>(method: M): NotificationMap[M][];
  /** Resolves with the close code. */
  closed: Promise<number>;
  /** Transports (fake DTLS) and media.ready: the server starts consuming for it. */
  setupMedia(): Promise<{ send: string }>;
  produce(send: string, source: 'mic' | 'camera'): Promise<string>;
}

/** Connects; `open` (if given) collects the client, for an `after` to terminate. */
export async function connectRaw(
  wsUrl: string,
  opts: { requestTimeoutMs?: number; open?: RawClient[] } = {},
): Promise<RawClient> {
  const ws = new WebSocket(wsUrl, 'protoo');
  const link = new FrameLink((text) => ws.send(text), {
    requestTimeoutMs: opts.requestTimeoutMs ?? 5000,
  });
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
  const request: RawClient['request'] = (method, data) => link.client.request(method, data);
  const client: RawClient = {
    ws,
    notifications,
    consumers,
    closed,
    request,
    seen: <M extends NotificationMethod>(method: M) =>
      notifications.filter((n) => n.method === method).map((n) => n.data as NotificationMap[M]),
    async setupMedia() {
      const caps = (await request('media.getRouterRtpCapabilities', {})).rtpCapabilities;
      const send = await request('media.createTransport', { direction: 'send' });
      const recv = await request('media.createTransport', { direction: 'recv' });
      for (const t of [send, recv]) {
        await request('media.connectTransport', { transportId: t.id, dtlsParameters: fakeDtls });
      }
      await request('media.ready', { rtpCapabilities: caps });
      return { send: send.id };
    },
    async produce(send, source) {
      const kind = source === 'mic' ? 'audio' : 'video';
      const rtpParameters = kind === 'audio' ? opusParams('0') : vp8Params('1', 3);
      const answer = await request('media.produce', {
        transportId: send,
        kind,
        rtpParameters,
        source,
      });
      return answer.producerId;
    },
  };
  opts.open?.push(client);
  return client;
}
