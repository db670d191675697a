import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NotificationMap, NotificationMethod } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { PublisherBot, SubscriberBot, type NewConsumer } from '../../../test/load/bots.ts';
import { loadOpusFixture, loadVp8Fixture } from '../../../test/load/rtp.ts';
import { ensureRoom, TuttiSignaling } from '../../../test/load/signaling.ts';
import { trackMedia, type MediaTracker } from '../helpers/mediaTracker.ts';
import { trackObservers, type ObserverTracker } from '../helpers/observerTracker.ts';
import type { Room } from '../../src/rooms/Room.ts';
import { createRoom, trackBots } from './bot.ts';

// One room over two workers (maxConsumersPerRouter: 2), with real WebRTC bots
// (node-datachannel) publishing the RTP fixture and counting packets per stream.

const BIND = { bindAddress: '127.0.0.1' };
const video = loadVp8Fixture();
const audio = loadOpusFixture();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface Bot {
  name: string;
  sig: TuttiSignaling;
  /** What the server offered, by producer id. */
  offers: Map<string, NewConsumer>;
  notes: { method: NotificationMethod; data: unknown }[];
  close(): void;
}

interface Sub extends Bot {
  packets(producerId: string): number;
}

interface Pub extends Bot {
  bot: PublisherBot;
  video: string;
  audio: string | undefined;
}

const WATCHED: NotificationMethod[] = [
  'media.restart',
  'media.consumerPaused',
  'media.consumerResumed',
  'media.consumerClosed',
  'media.consumerScore',
];

async function connect(wsUrl: string, roomId: string, name: string): Promise<Bot> {
  const sig = await TuttiSignaling.join(wsUrl, roomId, name);
  const offers = new Map<string, NewConsumer>();
  const onNewConsumer = sig.onNewConsumer.bind(sig);
  sig.onNewConsumer = (handler) =>
    onNewConsumer(async (c) => {
      offers.set(c.producerId, c);
      await handler(c);
    });
  const notes: Bot['notes'] = [];
  for (const method of WATCHED) {
    sig.peer.on(method, (data: NotificationMap[typeof method]) => notes.push({ method, data }));
  }
  return { name, sig, offers, notes, close: () => sig.close() };
}

describe('one room on several routers (2 workers, real RTP)', () => {
  let s: TestServer;
  let tracker: MediaTracker;
  let observers: ObserverTracker;
  let roomId: string;
  let room: Room;
  const bots: Bot[] = [];

  async function subscriber(name: string): Promise<Sub> {
    const b = await connect(s.wsUrl, roomId, name);
    const bot = new SubscriberBot(b.sig, { name, ...BIND }, 'none');
    await bot.start();
    const sub: Sub = {
      ...b,
      packets: (producerId) => {
        const mid = b.offers.get(producerId)?.rtpParameters.mid;
        return mid === undefined ? 0 : (bot.streams.get(mid)?.stats.packets ?? 0);
      },
      close: () => bot.close(),
    };
    bots.push(sub);
    return sub;
  }

  async function publisher(name: string, withAudio: boolean): Promise<Pub> {
    const b = await connect(s.wsUrl, roomId, name);
    const bot = new PublisherBot(
      b.sig,
      { video, audio: withAudio ? audio : undefined },
      {
        name,
        ...BIND,
      },
    );
    await bot.start();
    const pub: Pub = {
      ...b,
      bot,
      video: bot.producerIds[0]!,
      audio: bot.producerIds[1],
      close: () => bot.close(),
    };
    bots.push(pub);
    return pub;
  }

  const idOf = (name: string): string =>
    [...room.members()].find((m) => m.info.nickname === name)!.id;
  const pidOf = (b: Bot): number => room.media.workerPidOf(idOf(b.name))!;
  const flowing = (sub: Sub, producerId: string, min = 20) =>
    until(`${sub.name} receiving ${producerId}`, () => sub.packets(producerId) >= min);
  /** Packets of `producerId` that `sub` receives over `ms`. */
  const delta = async (sub: Sub, producerId: string, ms: number): Promise<number> => {
    const before = sub.packets(producerId);
    await sleep(ms);
    return sub.packets(producerId) - before;
  };
  const copies = (producerId: string) =>
    [...tracker.producers].filter((p) => p.id === producerId).length;
  const pipeTransports = () => [...tracker.transports].filter((t) => t.type === 'pipe').length;
  const count = (b: Bot, method: NotificationMethod) =>
    b.notes.filter((n) => n.method === method).length;

  /** Every 'produced' event of the room (recording, captions and the cluster listen to it). */
  const produced: string[] = [];
  let p1: Pub;
  let p2: Pub;
  let s1: Sub;
  let s2: Sub;

  before(async () => {
    tracker = trackMedia();
    observers = trackObservers();
    s = await startTestServer({ media: { numWorkers: 2, maxConsumersPerRouter: 2 } });
    roomId = await ensureRoom(s.wsUrl, 'Spread');
    room = s.app.tutti.rooms.get(roomId)!;
    room.on('produced', (producer) => produced.push(producer.id));
  });
  after(async () => {
    for (const b of bots) b.close();
    await sleep(300); // DTLS close alerts, then libdatachannel's threads go.
    await s.stop();
    tracker.stop();
    observers.stop();
  });

  test('a full router sends newcomers to a router on the other worker; RTP crosses both ways', async () => {
    p1 = await publisher('p1', true);
    s1 = await subscriber('s1');
    await flowing(s1, p1.video);
    await flowing(s1, p1.audio!);
    assert.equal(room.media.routers().length, 1, 'two consumers fit on the first router');

    // The first router carries 2 consumers now: the next member goes to the other worker.
    p2 = await publisher('p2', true);
    const routers = room.media.routers();
    assert.equal(routers.length, 2);
    assert.notEqual(routers[0]!.workerPid, routers[1]!.workerPid, 'on two different workers');
    assert.notEqual(pidOf(p2), pidOf(p1));
    const pool = s.app.tutti.workers.status();
    assert.deepEqual(
      pool.map((w) => w.routers),
      [1, 1],
      'WorkerPool.status(): one router on each worker',
    );
    assert.ok(routers.every((r) => pool.some((w) => w.pid === r.workerPid)));

    s2 = await subscriber('s2');
    assert.equal(pidOf(s2), pidOf(p2), 's2 joins the emptier router');
    assert.equal(pidOf(s1), pidOf(p1));
    // Every subscriber receives both publishers, one of them through a pipe.
    for (const sub of [s1, s2]) {
      for (const pid of [p1.video, p1.audio!, p2.video, p2.audio!]) await flowing(sub, pid);
    }
    assert.equal(copies(p1.video), 2, 'p1 video piped to the second router');
    assert.equal(copies(p2.video), 2, 'p2 video piped to the first router');
    const mine = [p1.video, p1.audio!, p2.video, p2.audio!];
    assert.deepEqual(
      produced.filter((id) => mine.includes(id)).sort(),
      [...mine].sort(),
      "one 'produced' event per producer",
    );
  });

  test('speaker and levels stay room-wide: every mic is seen by one pair of observers', async () => {
    // (The bots send no audio-level header extension, so the observers stay silent: what is
    // checked is that both mics, on two routers, reach the same two observers.)
    const live = observers.seen.filter((o) => !o.router.closed);
    assert.equal(live.length, 2, 'one ActiveSpeakerObserver + one AudioLevelObserver');
    assert.equal(live[0]!.router, live[1]!.router);
    const ids = (o: (typeof live)[number]) => [...o.producers].map((p) => p.id).sort();
    for (const o of live) assert.deepEqual(ids(o), [p1.audio!, p2.audio!].sort());
    assert.equal(room.media.routers().filter((r) => r.observers).length, 1);
    assert.equal(copies(p2.audio!), 2, "p2's mic is piped to the observers' router");
  });

  test('scores cross the pipe: a consumer of a piped producer reports its producer score', async () => {
    const consumerId = s2.offers.get(p1.video)!.id;
    await until('a score for s2’s consumer of p1', () =>
      s2.notes.some(
        (n) =>
          n.method === 'media.consumerScore' &&
          (n.data as NotificationMap['media.consumerScore']).consumerId === consumerId &&
          (n.data as NotificationMap['media.consumerScore']).producerScore > 0,
      ),
    );
  });

  test('pause/resume of the producer crosses the pipe; key frame requests come back', async () => {
    await p1.sig.peer.request('media.pauseProducer', { producerId: p1.video });
    await until('s2 told of the pause', () => count(s2, 'media.consumerPaused') === 1);
    await sleep(300); // in flight
    assert.equal(await delta(s2, p1.video, 700), 0, 'no video through the pipe while paused');
    assert.ok((await delta(s2, p1.audio!, 300)) > 0, 'audio keeps flowing');
    await p1.sig.peer.request('media.resumeProducer', { producerId: p1.video });
    await until('s2 told of the resume', () => count(s2, 'media.consumerResumed') === 1);
    assert.ok((await delta(s2, p1.video, 700)) > 0, 'video flows again through the pipe');

    // s2's consumer (on the second router) asks for a key frame when it resumes: the
    // request crosses the pipe back to p1 on the first router.
    const consumerId = s2.offers.get(p1.video)!.id;
    await s2.sig.peer.request('media.pauseConsumer', { consumerId });
    await sleep(400);
    const before = p1.bot.keyframeRequests;
    await s2.sig.peer.request('media.resumeConsumer', { consumerId });
    await until('a key frame request at p1', () => p1.bot.keyframeRequests > before, 3000);
  });

  test('nobody on a router consumes a piped producer any more: it is unpiped', async () => {
    const transportsBefore = pipeTransports();
    assert.ok(transportsBefore >= 2);
    s2.close();
    await until('p1 unpiped from the second router', () => copies(p1.video) === 1);
    await until('p1 audio unpiped', () => copies(p1.audio!) === 1);
    // p2's producers still go to s1 on the first router.
    assert.equal(copies(p2.video), 2);
    // Closing a producer reaches its consumers on the other router through the pipe.
    const micConsumer = s1.offers.get(p2.audio!)!.id;
    await p2.sig.peer.request('media.closeProducer', { producerId: p2.audio! });
    await until('s1 told p2’s mic is gone', () =>
      s1.notes.some(
        (n) =>
          n.method === 'media.consumerClosed' &&
          (n.data as { consumerId: string }).consumerId === micConsumer,
      ),
    );
    assert.equal(copies(p2.audio!), 0, 'mic and its pipe producer closed');
    assert.equal(pipeTransports(), transportsBefore, 'p2 video still piped');
    s1.close();
    await until('p2 video unpiped', () => copies(p2.video) === 1);
    // Nothing is piped between the two routers any more: their pipe transports close.
    await until('pipe transports closed', () => pipeTransports() === 0);
    assert.equal(room.media.pipes, 0);
    assert.equal(room.media.routers().length, 2, 'both routers still host a publisher');
  });

  test('a worker dies: only its router’s members restart, the others keep receiving', async () => {
    const s3 = await subscriber('s3');
    await flowing(s3, p1.video);
    await flowing(s3, p2.video);
    const s4 = await subscriber('s4');
    await flowing(s4, p1.video);
    await flowing(s4, p2.video);
    assert.equal(pidOf(s3), pidOf(p1));
    assert.equal(pidOf(s4), pidOf(p2));
    const victim = pidOf(p2);
    process.kill(victim, 'SIGKILL');
    await until('s4 and p2 told to restart', () =>
      [s4, p2].every((b) => count(b, 'media.restart') === 1),
    );
    await until('s3 told p2 video is gone', () => count(s3, 'media.consumerClosed') >= 1);
    await sleep(300);
    assert.equal(count(s3, 'media.restart'), 0, 's3 keeps its media');
    assert.equal(count(p1, 'media.restart'), 0, 'p1 keeps its media');
    assert.ok((await delta(s3, p1.video, 700)) > 0, 's3 still receives p1');
    assert.ok((await delta(s3, p1.audio!, 300)) > 0);
    const left = room.media.routers();
    assert.ok(left.every((r) => r.workerPid !== victim));
    assert.ok(left.some((r) => r.members.includes(idOf('p1')) && r.observers));
  });
});

describe('one room on several routers of a single worker (signaling bots)', () => {
  let s: TestServer;
  let tracker: MediaTracker;
  const { bot, closeAll } = trackBots(() => s.wsUrl);
  before(async () => {
    tracker = trackMedia();
    s = await startTestServer({ media: { numWorkers: 1, maxConsumersPerRouter: 1 } });
  });
  after(async () => {
    closeAll();
    await s.stop();
    tracker.stop();
  });

  test('a second router on the same worker; simulcast layers across the pipe; it closes when empty', async () => {
    const roomId = await createRoom(s.wsUrl, 'One worker');
    const room = s.app.tutti.rooms.get(roomId)!;
    const a = await bot(roomId, 'a');
    await a.setupMedia();
    const cam = await a.produce('camera');
    const b = await bot(roomId, 'b');
    await b.setupMedia();
    await b.waitConsumers(1);
    const c = await bot(roomId, 'c');
    await c.setupMedia();
    const [fromA] = await c.waitConsumers(1);
    const routers = room.media.routers();
    assert.equal(routers.length, 2, 'the full router sent c to a second one');
    assert.equal(routers[0]!.workerPid, routers[1]!.workerPid, 'the only worker hosts both');
    assert.ok(routers[1]!.members.includes(c.join.self.id));
    assert.equal(fromA!.producerId, cam);
    assert.equal(fromA!.type, 'simulcast', 'the pipe keeps the simulcast layers');
    await c.client.request('media.setConsumerPreferredLayers', {
      consumerId: fromA!.id,
      spatialLayer: 0,
      temporalLayer: 0,
    });
    assert.equal(room.media.pipes, 1);
    c.client.close();
    await until('c’s router closed', () => room.media.routers().length === 1);
    await until('pipe transports closed', () =>
      [...tracker.transports].every((t) => t.type !== 'pipe'),
    );
    assert.equal(room.media.pipes, 0);
  });
});

describe('the speaker observers’ router dies (2 workers, signaling bots)', () => {
  let s: TestServer;
  let observers: ObserverTracker;
  const { bot, closeAll } = trackBots(() => s.wsUrl);
  before(async () => {
    observers = trackObservers();
    s = await startTestServer({ media: { numWorkers: 2, maxConsumersPerRouter: 1 } });
  });
  after(async () => {
    closeAll();
    await s.stop();
    observers.stop();
  });

  test('the observers move to the surviving router and hear its mics; only the dead router’s members restart', async () => {
    const roomId = await createRoom(s.wsUrl, 'Observers move');
    const room = s.app.tutti.rooms.get(roomId)!;
    const a = await bot(roomId, 'a');
    await a.setupMedia();
    const aMic = await a.produce('mic');
    const b = await bot(roomId, 'b');
    await b.setupMedia();
    await b.waitConsumers(1);
    const c = await bot(roomId, 'c'); // The first router is full: c goes to the other worker.
    await c.setupMedia();
    const cMic = await c.produce('mic');
    await a.waitConsumers(1);
    const [first, second] = room.media.routers();
    assert.ok(first!.observers && !second!.observers);
    assert.ok(second!.members.includes(c.join.self.id));
    const heard = () =>
      observers.seen
        .filter((o) => !o.router.closed)
        .map((o) => ({ router: o.router.id, mics: [...o.producers].map((p) => p.id).sort() }));
    await until('both mics observed on the first router', () =>
      heard().every((o) => o.router === first!.routerId && o.mics.length === 2),
    );
    assert.deepEqual(heard()[0]!.mics, [aMic, cMic].sort());

    const restarted = (x: typeof a) =>
      x.client.notifications.some((n) => n.method === 'media.restart');
    process.kill(first!.workerPid, 'SIGKILL');
    await until('a and b told to restart', () => restarted(a) && restarted(b));
    await until('observers again, on the surviving router, with c’s mic', () => {
      const h = heard();
      return h.length === 2 && h.every((o) => o.router === second!.routerId && o.mics[0] === cMic);
    });
    await sleep(200);
    assert.equal(restarted(c), false, 'c keeps its media');
    assert.ok(room.media.routers().some((r) => r.observers && r.routerId === second!.routerId));
  });
});
