import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { TuttiError } from '@tutti/protocol';
import { PublisherBot, SubscriberBot, type NewConsumer } from '../../../test/load/bots.ts';
import { loadOpusFixture, loadVp8Fixture } from '../../../test/load/rtp.ts';
import { ensureRoom, TuttiSignaling } from '../../../test/load/signaling.ts';
import { ClusterRpc, LocalClusterHub } from '../../src/cluster/index.ts';
import {
  sharedDataDir,
  sleep,
  startNode,
  until,
  type InProcessNode,
} from '../helpers/clusterNodes.ts';
import { useMediaNodePair } from '../helpers/mediaNodePair.ts';

// Media across nodes, the harder cases: an edge whose room spans two workers, a lost RPC
// tried again, malformed and forged requests, a node that never answers.

const video = loadVp8Fixture();
const audio = loadOpusFixture();
const errorCodeOf = (e: unknown) => (e instanceof TuttiError ? e.code : undefined);

describe('media across nodes into a room spread over two workers of the edge', () => {
  const hub = new LocalClusterHub();
  const nodes = useMediaNodePair({
    a: { nodeId: 'media-d', host: '127.0.0.86', hub },
    b: {
      nodeId: 'media-e',
      host: '127.0.0.87',
      hub,
      numWorkers: 2,
      overrides: { media: { numWorkers: 2, listenIp: '127.0.0.87', maxConsumersPerRouter: 2 } },
    },
    rooms: ['Spread edge'],
  });
  const { closers, roomOf } = nodes;

  test('viewers on both workers of the edge receive the origin’s camera (pipe, then in-node pipe)', async () => {
    const roomId = roomOf('Spread edge');
    const pubSig = await TuttiSignaling.join(nodes.a.wsUrl, roomId, 'pub');
    const pub = new PublisherBot(
      pubSig,
      { video, audio },
      { name: 'pub', bindAddress: '127.0.0.1' },
    );
    await pub.start();
    closers.push(() => pub.close());
    const subs: { bot: SubscriberBot; offers: Map<string, NewConsumer> }[] = [];
    for (const name of ['v1', 'v2', 'v3']) {
      const sig = await TuttiSignaling.join(nodes.b.wsUrl, roomId, name);
      const offers = new Map<string, NewConsumer>();
      const onNewConsumer = sig.onNewConsumer.bind(sig);
      sig.onNewConsumer = (handler) =>
        onNewConsumer(async (c) => {
          offers.set(c.producerId, c);
          await handler(c);
        });
      const bot = new SubscriberBot(sig, { name, bindAddress: '127.0.0.1' }, 'none');
      await bot.start();
      closers.push(() => bot.close());
      subs.push({ bot, offers });
    }
    const packets = (s: (typeof subs)[number], id: string) => {
      const mid = s.offers.get(id)?.rtpParameters.mid;
      return mid === undefined ? 0 : (s.bot.streams.get(mid)?.stats.packets ?? 0);
    };
    for (const s of subs)
      for (const id of pub.producerIds)
        await until(`${id} at a viewer on b`, () => packets(s, id) >= 20);
    const roomB = nodes.b.app.tutti.rooms.get(roomId)!;
    const pids = new Set(roomB.media.routers().map((r) => r.workerPid));
    assert.equal(pids.size, 2, 'the room spans both workers of b');
    assert.equal(
      nodes.b.app.tutti.mediaFederation.edge.links,
      1,
      'one pipe from a, whatever b’s routers',
    );
  });

  test('a pipe.consume lost on the way times out and is tried again', async () => {
    const roomId = roomOf('Spread edge');
    // The hub swallows the next pipe.consume to a (as a bus that lost it would).
    const inject = hub.inject.bind(hub);
    let swallowed = 0;
    hub.inject = (nodeId, raw) => {
      if (nodeId === 'media-d' && swallowed === 0 && raw.includes('pipe.consume')) {
        swallowed++;
        return 1;
      }
      return inject(nodeId, raw);
    };
    try {
      const sig = await TuttiSignaling.join(nodes.a.wsUrl, roomId, 'late');
      const late = new PublisherBot(
        sig,
        { video, audio: undefined },
        { name: 'late', bindAddress: '127.0.0.1' },
      );
      await late.start();
      closers.push(() => late.close());
      const roomB = nodes.b.app.tutti.rooms.get(roomId)!;
      const id = late.producerIds[0]!;
      await until(
        'the late camera piped into b after the retry',
        () => [...roomB.remote.producers()].some((p) => p.id === id),
        8000,
      );
      assert.equal(swallowed, 1, 'the first attempt was lost');
    } finally {
      hub.inject = inject;
    }
  });
});

describe('three nodes: every producer reaches the two other nodes', () => {
  const hub = new LocalClusterHub();
  const data = sharedDataDir();
  const nodes: InProcessNode[] = [];
  const closers: (() => void)[] = [];
  let roomId: string;
  before(async () => {
    nodes.push(await startNode({ nodeId: 'media-f', host: '127.0.0.88', dataDir: data.dir, hub }));
    roomId = await ensureRoom(nodes[0]!.wsUrl, 'Three nodes');
    for (const [nodeId, host] of [
      ['media-g', '127.0.0.89'],
      ['media-h', '127.0.0.83'],
    ] as const)
      nodes.push(await startNode({ nodeId, host, dataDir: data.dir, hub }));
  });
  after(async () => {
    for (const close of closers) close();
    await sleep(300);
    for (const n of nodes.reverse()) await n.stop();
    data.remove();
  });

  test('a publisher on each node; a viewer on each node receives the two others', async () => {
    const pubs: PublisherBot[] = [];
    const subs: { bot: SubscriberBot; offers: Map<string, NewConsumer> }[] = [];
    for (const [i, node] of nodes.entries()) {
      const sig = await TuttiSignaling.join(node.wsUrl, roomId, `pub${i}`);
      const pub = new PublisherBot(
        sig,
        { video, audio: undefined },
        { name: `pub${i}`, bindAddress: '127.0.0.1' },
      );
      await pub.start();
      closers.push(() => pub.close());
      pubs.push(pub);
    }
    for (const [i, node] of nodes.entries()) {
      const sig = await TuttiSignaling.join(node.wsUrl, roomId, `sub${i}`);
      const offers = new Map<string, NewConsumer>();
      const onNewConsumer = sig.onNewConsumer.bind(sig);
      sig.onNewConsumer = (handler) =>
        onNewConsumer(async (c) => {
          offers.set(c.producerId, c);
          await handler(c);
        });
      const bot = new SubscriberBot(sig, { name: `sub${i}`, bindAddress: '127.0.0.1' }, 'none');
      await bot.start();
      closers.push(() => bot.close());
      subs.push({ bot, offers });
    }
    for (const [i, sub] of subs.entries())
      for (const [j, pub] of pubs.entries()) {
        const id = pub.producerIds[0]!;
        await until(`sub${i} receiving pub${j}`, () => {
          const mid = sub.offers.get(id)?.rtpParameters.mid;
          return mid !== undefined && (sub.bot.streams.get(mid)?.stats.packets ?? 0) >= 20;
        });
      }
    for (const n of nodes) {
      assert.equal(
        n.app.tutti.mediaFederation.edge.links,
        2,
        `${n.nodeId}: a pipe from each other node`,
      );
      assert.equal(
        n.app.tutti.mediaFederation.origin.links,
        2,
        `${n.nodeId}: a pipe to each other node`,
      );
    }
  });
});

describe('cross-node media RPC: bad input and silence', () => {
  const hub = new LocalClusterHub();
  const data = sharedDataDir();
  let node: InProcessNode;
  before(async () => {
    node = await startNode({ nodeId: 'media-c', host: '127.0.0.83', dataDir: data.dir, hub });
  });
  after(async () => {
    await node.stop();
    data.remove();
  });

  test('malformed payloads are refused by the schemas (INVALID_REQUEST), a forged pipe address too (FORBIDDEN)', async () => {
    const loose = { request: z.unknown(), response: z.unknown() };
    const rogue = new ClusterRpc(
      hub.transport(),
      'rogue',
      { 'pipe.open': loose, 'pipe.consume': loose, 'media.producerOpened': loose },
      { log: node.app.log },
    );
    await rogue.start();
    const refused = async (
      method: 'pipe.open' | 'pipe.consume' | 'media.producerOpened',
      payload: unknown,
    ) => {
      const err = await rogue.request('media-c', method, payload).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.equal(errorCodeOf(err), 'INVALID_REQUEST', `${method} ${JSON.stringify(payload)}`);
    };
    await refused('pipe.consume', { roomId: 5, producerId: 'x' });
    await refused('pipe.open', {
      roomId: 'r',
      edge: {
        ip: '127.0.0.1',
        port: 70000,
        srtpParameters: { cryptoSuite: 'NONE', keyBase64: '' },
      },
    });
    await refused('media.producerOpened', {
      roomId: 'r',
      producer: { producerId: 'p', kind: 'data' },
    });
    // Well-formed, claiming to be a known node but with another address: refused.
    const forged = new ClusterRpc(
      hub.transport(),
      'media-c-twin',
      { 'pipe.open': loose },
      { log: node.app.log },
    );
    await forged.start();
    hub.putEntry(
      'media-c-twin',
      JSON.stringify({
        ...node.app.tutti.cluster.registry.get('media-c')!,
        nodeId: 'media-c-twin',
      }),
    );
    await until(
      'the twin is in the registry',
      () => !!node.app.tutti.cluster.registry.get('media-c-twin'),
    );
    const srtpParameters = { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'a'.repeat(60) };
    const denied = await forged
      .request('media-c', 'pipe.open', {
        roomId: 'r',
        edge: { ip: '192.0.2.1', port: 4000, srtpParameters },
      })
      .catch((e: unknown) => e);
    assert.equal(errorCodeOf(denied), 'FORBIDDEN');
    await forged.close();
    // Well-formed but about nothing here: a clear error, no pipe.
    const err = await rogue
      .request('media-c', 'pipe.consume', { roomId: 'nope', producerId: 'p' })
      .catch((e: unknown) => e);
    assert.equal(errorCodeOf(err), 'NOT_FOUND');
    assert.equal(node.app.tutti.mediaFederation.origin.links, 0);
    await rogue.close();
  });

  test('a node that never answers: the request fails with a timeout, the join does not wait', async () => {
    // A "node" that listens and never answers, seated in the room so it is asked.
    const silent = hub.transport();
    await silent.listen('media-silent', () => {});
    const roomId = await ensureRoom(node.wsUrl, 'Silent neighbour');
    await node.app.tutti.cluster.placement.reserve(roomId, 'ghost', 'media-silent', 100);
    const t0 = Date.now();
    const err = await node.app.tutti.cluster.rpc
      .request('media-silent', 'media.watch', { roomId }, { timeoutMs: 300 })
      .catch((e: unknown) => e);
    assert.equal(errorCodeOf(err), 'MEDIA_UNAVAILABLE');
    assert.ok(Date.now() - t0 < 1000);
    const t1 = Date.now();
    const sig = await TuttiSignaling.join(node.wsUrl, roomId, 'joiner');
    assert.ok(Date.now() - t1 < 1000, 'the join answered without waiting for the silent node');
    sig.close();
    await silent.close();
  });
});
