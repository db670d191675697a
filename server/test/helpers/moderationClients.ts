import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  errorCodeOf,
  type JoinResult,
  type MediaSource,
  type PeerInfo,
  type RequestData,
} from '@tutti/protocol';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { TEST_AUTH } from './authApp.ts';
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

/** A refusal's code (fails the test if the call went through). */
export async function refusalCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return errorCodeOf(err);
  }
  assert.fail('expected a refusal');
}

/** What the moderation tests share: one server, the people they connected, fresh rooms. */
export interface ModerationFixture {
  /** Started before the tests (with accounts), stopped after them. */
  readonly server: TestServer;
  /** Closed after the tests. */
  readonly people: Person[];
  /** A number not used before (room names). */
  unique(): number;
  /** A fresh room made by a guest: its id and owner secret. */
  room(name?: string): Promise<{ roomId: string; ownerSecret: string }>;
  /** enter(), the person closed after the tests. */
  join(...args: Parameters<typeof enter>): Promise<Person & { join: JoinResult }>;
  /** A room, its owner joined (owner secret) and participants named `names`. */
  meeting(...names: string[]): Promise<{
    roomId: string;
    ownerSecret: string;
    owner: Person & { join: JoinResult };
    others: (Person & { join: JoinResult })[];
  }>;
  /** `p` is told that `id` changed so that `pred` holds. */
  peerUpdate(p: Person, id: string, pred: (peer: PeerInfo) => boolean): Promise<unknown>;
}

/** Call inside a describe(): a real server and worker for its tests (before/after hooks). */
export function moderationFixture(): ModerationFixture {
  let server: TestServer | undefined;
  const people: Person[] = [];
  let n = 0;
  const live = (): TestServer => server ?? assert.fail('the server is not started');
  const join = async (...args: Parameters<typeof enter>) => {
    const p = await enter(...args);
    people.push(p);
    return p;
  };
  const room = async (name = `Room ${++n}`) => {
    const c = await connect(live());
    people.push(c);
    const r = await c.client.request('room.create', { name });
    return { roomId: r.room.id, ownerSecret: r.ownerSecret };
  };
  before(async () => {
    server = await startTestServer({
      auth: TEST_AUTH,
      server: { trustProxy: '127.0.0.1', roomCreatesPerMinute: 1000 },
      signaling: { requestsPerSecond: 500, requestBurst: 500 },
    });
  });
  after(async () => {
    for (const p of people) p.client.close();
    await server?.stop();
  });
  return {
    get server() {
      return live();
    },
    people,
    unique: () => ++n,
    room,
    join,
    async meeting(...names) {
      const { roomId, ownerSecret } = await room();
      const owner = await join(live(), { roomId, nickname: 'Olga', ownerSecret });
      const others = [];
      for (const nickname of names) others.push(await join(live(), { roomId, nickname }));
      return { roomId, ownerSecret, owner, others };
    },
    peerUpdate: (p, id, pred) =>
      p.client.nextNotification('room.peerUpdated', ({ peer }) => peer.id === id && pred(peer)),
  };
}
