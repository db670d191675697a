import type { JoinResult, MediaSource, RequestData } from '@tutti/protocol';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import type { TestServer } from '../../../test/helpers/startServer.ts';
import { fakeDtls, opusParams, vp8Params } from '../integration/bot.ts';

/** A connection of its own (a session cookie, a forwarded address), joined or not. */
export interface Person {
  client: SignalingClient;
  join?: JoinResult;
  id: string;
  /** Creates and connects a send transport (once), then produces `source`. */
  produce(source: MediaSource, paused?: boolean): Promise<string>;
}

export interface ConnectOptions {
  cookie?: string;
  /** Seen as the client address when the server trusts loopback proxies. */
  address?: string;
}

export async function connect(server: TestServer, opts: ConnectOptions = {}): Promise<Person> {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.address) headers['x-forwarded-for'] = opts.address;
  const client = await connectSignaling(server.wsUrl, 10_000, { headers });
  let sendTransportId: string | undefined;
  const person: Person = {
    client,
    id: '',
    async produce(source, paused) {
      if (!sendTransportId) {
        const { rtpCapabilities } = await client.request('media.getRouterRtpCapabilities', {});
        const send = await client.request('media.createTransport', { direction: 'send' });
        const recv = await client.request('media.createTransport', { direction: 'recv' });
        for (const t of [send, recv]) {
          await client.request('media.connectTransport', {
            transportId: t.id,
            dtlsParameters: fakeDtls,
          });
        }
        await client.request('media.ready', { rtpCapabilities });
        sendTransportId = send.id;
      }
      const kind = source === 'mic' || source === 'screen-audio' ? 'audio' : 'video';
      const mid = { mic: '0', camera: '1', screen: '2', 'screen-audio': '3' }[source];
      const rtpParameters =
        kind === 'audio' ? opusParams(mid) : vp8Params(mid, source === 'camera' ? 3 : 1);
      const { producerId } = await client.request('media.produce', {
        transportId: sendTransportId,
        kind,
        rtpParameters,
        source,
        ...(paused !== undefined && { paused }),
      });
      return producerId;
    },
  };
  return person;
}

/** Connects and joins (throws what room.join throws). */
export async function enter(
  server: TestServer,
  data: RequestData<'room.join'>,
  opts: ConnectOptions = {},
): Promise<Person & { join: JoinResult }> {
  const person = await connect(server, opts);
  try {
    const join = await person.client.request('room.join', data);
    return Object.assign(person, { join, id: join.self.id });
  } catch (err) {
    person.client.close();
    throw err;
  }
}

/** Signs up over HTTP; returns the session cookie (`tutti_session=…`). */
export async function signUp(server: TestServer, name: string): Promise<string> {
  const email = `${name.toLowerCase()}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`;
  const res = await fetch(`${server.url}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.url },
    body: JSON.stringify({ email, password: 'correct horse battery', name }),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 201) throw new Error(`signup: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('tutti_session='));
  if (!cookie) throw new Error('signup: no session cookie');
  return cookie.split(';')[0]!;
}
