import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PipeTransport } from 'mediasoup/types';
import type { NotificationMap, NotificationMethod } from '@tutti/protocol';
import { PublisherBot, SubscriberBot, type NewConsumer } from '../../../test/load/bots.ts';
import { SIMULCAST_SCALES } from '../../../test/load/profile.ts';
import { loadOpusFixture, loadVp8Fixture } from '../../../test/load/rtp.ts';
import { TuttiSignaling } from '../../../test/load/signaling.ts';
import { LocalClusterHub } from '../../src/cluster/index.ts';
import type { Room } from '../../src/rooms/Room.ts';
import { sleep, until, type InProcessNode } from '../helpers/clusterNodes.ts';
import { useMediaNodePair } from '../helpers/mediaNodePair.ts';
import { trackMedia, type MediaTracker } from '../helpers/mediaTracker.ts';
import { trackObservers, type ObserverTracker } from '../helpers/observerTracker.ts';
import { startOwnRedis, type OwnRedis } from '../helpers/redisServer.ts';

// Media across nodes: two Tutti nodes in this process (each its own worker pool and media
// address on 127.0.0.81/82), on one in-process hub or on a Redis of their own. Real WebRTC
// bots (node-datachannel) publish the RTP fixtures and count packets per stream.

const video = loadVp8Fixture();
const audio = loadOpusFixture();
const simulcast = SIMULCAST_SCALES.map((scale) => loadVp8Fixture(undefined, scale));
/**
 * How long a node may take to declare a silent one gone: a node timeout, plus one more after a
 * stall of this process's own event loop (NodeRegistry holds its verdicts then; a loaded CI box
 * stalls it for 0.7 s and more, and starves this wait's own polling as well). The product's
 * bound, 10 s, with the production timings.
 */
const GONE_WITHIN_MS = 10_000;

const WATCHED: NotificationMethod[] = [
  'media.consumerPaused',
  'media.consumerResumed',
  'media.consumerClosed',
  'media.consumerScore',
  'media.consumerLayersChanged',
  'media.activeSpeaker',
];

interface Bot {
  name: string;
  sig: TuttiSignaling;
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
  audio: string;
}

async function connect(node: InProcessNode, roomId: string, name: string): Promise<Bot> {
  const sig = await TuttiSignaling.join(node.wsUrl, roomId, name);
  const offers = new Map<string, NewConsumer>();
  const onNewConsumer = sig.onNewConsumer.bind(sig);
  sig.onNewConsumer = (handler) =>
    onNewConsumer(async (c) => {
      offers.set(c.producerId, c);
      await handler(c);
    });
  const notes: Bot['notes'] = [];
  for (const method of WATCHED)
    sig.peer.on(method, (data: NotificationMap[typeof method]) => notes.push({ method, data }));
  return { name, sig, offers, notes, close: () => sig.close() };
}

function clusterMediaSuite(label: string, transport: 'hub' | 'redis'): void {
  describe(`media across two nodes (${label})`, () => {
    let redis: OwnRedis | undefined;
    const hub = new LocalClusterHub();
    let roomId: string;
    let roomA: Room;
    let roomB: Room;
    let tracker: MediaTracker;
    let observers: ObserverTracker;

    const spec = (nodeId: string, host: string) => () => ({
      nodeId,
      host,
      ...(transport === 'hub' ? { hub } : { redisUrl: redis!.url }),
    });
    // Rooms are loaded from the shared store at start-up: b starts after the room exists.
    const nodes = useMediaNodePair({
      a: spec('media-a', '127.0.0.81'),
      b: spec('media-b', '127.0.0.82'),
      rooms: [`Across ${label}`],
      untilBothListed: true,
      ignoreStopErrors: true, // Tests stop a node's registry or RPC themselves.
      async setUp() {
        tracker = trackMedia();
        observers = trackObservers();
        if (transport === 'redis') redis = await startOwnRedis();
      },
      async tearDown() {
        await redis?.stop();
        tracker.stop();
        observers.stop();
      },
    });
    const { closers } = nodes;

    async function subscriber(node: InProcessNode, name: string): Promise<Sub> {
      const c = await connect(node, roomId, name);
      const bot = new SubscriberBot(c.sig, { name, bindAddress: '127.0.0.1' }, 'none');
      await bot.start();
      const sub: Sub = {
        ...c,
        packets: (producerId) => {
          const mid = c.offers.get(producerId)?.rtpParameters.mid;
          return mid === undefined ? 0 : (bot.streams.get(mid)?.stats.packets ?? 0);
        },
        close: () => bot.close(),
      };
      closers.push(() => sub.close());
      return sub;
    }

    /** `layered`: a 3-layer simulcast camera. */
    async function publisher(node: InProcessNode, name: string, layered = false): Promise<Pub> {
      const c = await connect(node, roomId, name);
      const media = { video, audio, ...(layered && { simulcast }) };
      const bot = new PublisherBot(c.sig, media, { name, bindAddress: '127.0.0.1' });
      await bot.start();
      const pub: Pub = {
        ...c,
        bot,
        video: bot.producerIds[0]!,
        audio: bot.producerIds[1]!,
        close: () => bot.close(),
      };
      closers.push(() => pub.close());
      return pub;
    }

    const flowing = (sub: Sub, producerId: string, min = 20) =>
      until(`${sub.name} receiving ${producerId}`, () => sub.packets(producerId) >= min);
    const delta = async (sub: Sub, producerId: string, ms: number): Promise<number> => {
      const before = sub.packets(producerId);
      await sleep(ms);
      return sub.packets(producerId) - before;
    };
    const count = (bot: Bot, method: NotificationMethod) =>
      bot.notes.filter((n) => n.method === method).length;
    const closedNote = (bot: Bot, producerId: string) =>
      bot.notes.some(
        (n) =>
          n.method === 'media.consumerClosed' &&
          (n.data as { consumerId: string }).consumerId === bot.offers.get(producerId)?.id,
      );
    const pipeTransports = () => [...tracker.transports].filter((t) => t.type === 'pipe').length;
    const fed = (node: InProcessNode) => node.app.tutti.mediaFederation;

    let pa: Pub;
    let pb: Pub;
    let sa: Sub;
    let sb: Sub;

    before(() => {
      roomId = nodes.roomOf(`Across ${label}`);
      roomA = nodes.a.app.tutti.rooms.get(roomId)!;
      roomB = nodes.b.app.tutti.rooms.get(roomId)!;
      assert.ok(roomB, 'the room is known on both nodes');
    });

    test('bots on different nodes exchange RTP through one SRTP pipe per room and direction', async () => {
      pa = await publisher(nodes.a, 'pa', true);
      sb = await subscriber(nodes.b, 'sb');
      await flowing(sb, pa.video);
      await flowing(sb, pa.audio);
      pb = await publisher(nodes.b, 'pb');
      sa = await subscriber(nodes.a, 'sa');
      for (const sub of [sa, sb])
        for (const id of [pa.video, pa.audio, pb.video, pb.audio]) await flowing(sub, id);
      // The consumer offered on b carries the origin's id, peer and source.
      const offer = sb.offers.get(pa.video)!;
      assert.equal(offer.peerId, [...roomA.members()].find((m) => m.info.nickname === 'pa')!.id);
      assert.equal(offer.source, 'camera');
      assert.equal(offer.type, 'simulcast', 'the layers survive the pipe');
      assert.deepEqual(
        [...roomB.remote.producers()].map((p) => p.id).sort(),
        [pa.video, pa.audio].sort(),
      );
      assert.deepEqual(
        [...roomA.remote.producers()].map((p) => p.id).sort(),
        [pb.video, pb.audio].sort(),
      );
      // Each node is origin for the other once and edge once: one pipe pair each way.
      for (const n of [nodes.a, nodes.b]) {
        assert.equal(fed(n).origin.links, 1);
        assert.equal(fed(n).edge.links, 1);
      }
      const srtp = [...tracker.transports].filter((t) => t.type === 'pipe' && !t.closed);
      assert.equal(srtp.length, 4);
      for (const t of srtp) assert.ok((t as PipeTransport).srtpParameters, 'SRTP on every pipe');
    });

    test('piped-in mics join the edge’s speaker observers (active speaker stays room-wide)', async () => {
      const heardOn = (room: Room) => {
        const routers = new Set(room.media.routers().map((r) => r.routerId));
        return observers.seen
          .filter((o) => !o.router.closed && routers.has(o.router.id))
          .map((o) => [...o.producers].map((p) => p.id).sort());
      };
      const both = [pa.audio, pb.audio].sort();
      await until('both mics heard on a', () =>
        heardOn(roomA).every((ids) => ids.join() === both.join()),
      );
      await until('both mics heard on b', () =>
        heardOn(roomB).every((ids) => ids.join() === both.join()),
      );
      assert.equal(heardOn(roomB).length, 2, 'one speaker + one level observer');
      // b's observer elected the first mic it got, pa's (piped in from a): sb is told so.
      const paId = [...roomA.members()].find((m) => m.info.nickname === 'pa')!.id;
      await until('sb told pa (on a) is the active speaker', () =>
        sb.notes.some(
          (n) =>
            n.method === 'media.activeSpeaker' &&
            (n.data as NotificationMap['media.activeSpeaker']).peerId === paId,
        ),
      );
    });

    test('scores, simulcast layers and key frame requests cross the nodes', async () => {
      const consumerId = sb.offers.get(pa.video)!.id;
      await sb.sig.peer.request('media.setConsumerPreferredLayers', {
        consumerId,
        spatialLayer: 0,
        temporalLayer: 0,
      });
      await until('sb switched to the lowest layer', () =>
        sb.notes.some(
          (n) =>
            n.method === 'media.consumerLayersChanged' &&
            (n.data as NotificationMap['media.consumerLayersChanged']).spatialLayer === 0,
        ),
      );
      await until('a producer score for sb’s consumer of pa', () =>
        sb.notes.some(
          (n) =>
            n.method === 'media.consumerScore' &&
            (n.data as NotificationMap['media.consumerScore']).consumerId === consumerId &&
            (n.data as NotificationMap['media.consumerScore']).producerScore > 0,
        ),
      );
      await sb.sig.peer.request('media.pauseConsumer', { consumerId });
      await sleep(400);
      const before = pa.bot.keyframeRequests;
      await sb.sig.peer.request('media.resumeConsumer', { consumerId });
      await until(
        'a key frame request (PLI) back at pa',
        () => pa.bot.keyframeRequests > before,
        3000,
      );
    });

    test('pause and resume of the origin producer reach the edge’s consumers', async () => {
      await pa.sig.peer.request('media.pauseProducer', { producerId: pa.video });
      await until('sb told of the pause', () => count(sb, 'media.consumerPaused') === 1);
      await sleep(300);
      assert.equal(await delta(sb, pa.video, 700), 0, 'no video across while paused');
      assert.ok((await delta(sb, pa.audio, 300)) > 0, 'audio keeps flowing');
      await pa.sig.peer.request('media.resumeProducer', { producerId: pa.video });
      await until('sb told of the resume', () => count(sb, 'media.consumerResumed') === 1);
      assert.ok((await delta(sb, pa.video, 700)) > 0, 'video flows again');
    });

    test('a producer closed at the origin closes the edge’s consumers; an unused pipe closes', async () => {
      await pb.sig.peer.request('media.closeProducer', { producerId: pb.audio });
      await until('sa told pb’s mic is gone', () => closedNote(sa, pb.audio));
      await until(
        'a forgot pb’s mic',
        () => ![...roomA.remote.producers()].some((p) => p.id === pb.audio),
      );
      assert.ok((await delta(sa, pb.video, 500)) > 0, 'pb’s camera still crosses');
      // b's members leave: nobody on b consumes a's producers, nothing of b is left for a.
      sb.close();
      pb.close();
      await until('b has no members', () => roomB.size === 0);
      await until('every pipe between a and b closed', () =>
        [nodes.a, nodes.b].every((n) => fed(n).origin.links === 0 && fed(n).edge.links === 0),
      );
      await until('pipe transports closed', () => pipeTransports() === 0);
      assert.equal(roomA.remote.size, 0);
      assert.ok((await delta(sa, pa.video, 500)) > 0, 'a’s own media unaffected');
    });

    test('a newcomer on the edge gets the pipe reopened; the origin node gone closes its producers there, back pipes them again', async () => {
      const sb2 = await subscriber(nodes.b, 'sb2');
      await flowing(sb2, pa.video);
      await flowing(sb2, pa.audio);
      assert.equal(fed(nodes.a).origin.links, 1, 'reopened');
      // a stops heartbeating (as if dead): b declares it gone and drops what came from it.
      await nodes.a.app.tutti.cluster.registry.stop();
      try {
        await until(
          'sb2 told pa’s camera and mic are gone',
          () => closedNote(sb2, pa.video) && closedNote(sb2, pa.audio),
          GONE_WITHIN_MS,
        );
      } catch (err) {
        // What b made of it, for the log; a beats again, so that the next test does not fail
        // for this one's sake.
        const seen = nodes.b.app.tutti.cluster.registry.nodes().map((n) => n.nodeId);
        console.error('b lists', seen, 'edge links', fed(nodes.b).edge.links, 'notes', sb2.notes);
        await nodes.a.app.tutti.cluster.registry.start();
        throw err;
      }
      assert.equal(roomB.remote.size, 0);
      assert.equal(fed(nodes.b).edge.links, 0);
      // a was only frozen: back in the registry, b watches it again and pipes its media in.
      const firstOffer = sb2.offers.get(pa.video)!.id;
      await nodes.a.app.tutti.cluster.registry.start();
      await until(
        'sb2 offered pa’s camera again',
        () => sb2.offers.get(pa.video)!.id !== firstOffer,
        5000,
      );
      await flowing(sb2, pa.video);
      assert.equal(roomB.remote.size, 2);
    });

    test('the edge node gone: the origin closes its pipes to it', async () => {
      const toB = () =>
        [...tracker.transports].filter(
          (t) => t.type === 'pipe' && !t.closed && t.appData['remoteNode'] === 'media-b',
        ).length;
      assert.equal(toB(), 1, 'a’s end of the pipe to b');
      // b dies without a word: no RPC any more, no heartbeat.
      await nodes.b.app.tutti.cluster.rpc.close();
      await nodes.b.app.tutti.cluster.registry.stop();
      await until(
        'a closed its pipe to b',
        () => toB() === 0 && fed(nodes.a).origin.links === 0,
        GONE_WITHIN_MS,
      );
      assert.equal(fed(nodes.a).origin.watchers(roomId).size, 0, 'b is told of nothing any more');
      assert.ok((await delta(sa, pa.video, 500)) > 0, 'a’s own members unaffected');
    });
  });
}

clusterMediaSuite('in-process hub', 'hub');
clusterMediaSuite('real Redis', 'redis');
