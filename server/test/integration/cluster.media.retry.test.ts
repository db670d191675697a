import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PublisherBot } from '../../../test/load/bots.ts';
import { countingSubscriber, type CountingSubscriber } from '../helpers/countingSubscriber.ts';
import { loadVp8Fixture } from '../../../test/load/rtp.ts';
import { TuttiSignaling } from '../../../test/load/signaling.ts';
import { LocalClusterHub } from '../../src/cluster/index.ts';
import { sleep, until, type InProcessNode } from '../helpers/clusterNodes.ts';
import { useMediaNodePair } from '../helpers/mediaNodePair.ts';

// The media edge while its origin is away for a while (unreachable, or taking requests and
// never answering): for longer than its first three tries. Two nodes on one in-process hub;
// real WebRTC bots (node-datachannel) publish on a and view on b. A member on b must not keep
// a dead tile once a is back, and the tries stop when nobody on b wants the room any more or
// the producer's member is gone. TUTTI_TEST_CLUSTER_HOSTS overrides the addresses.

const video = loadVp8Fixture();
const [HOST_A, HOST_B, HOST_BOTS] = (
  process.env.TUTTI_TEST_CLUSTER_HOSTS ?? '127.0.0.2,127.0.0.3,127.0.0.4'
).split(',') as [string, string, string];

/**
 * Requests of `methods` to node `to` are lost: refused (nobody listening) or swallowed (never
 * answered); `also` (to another node) are swallowed too, uncounted.
 */
function outage(
  hub: LocalClusterHub,
  to: string,
  methods: string[],
  mode: 'refuse' | 'swallow',
  also: [node: string, method: string][] = [],
) {
  const inject = hub.inject.bind(hub);
  const names = (m: string) => `\\"method\\":\\"${m}\\"`; // As it is inside the signed body.
  let dropped = 0;
  hub.inject = (nodeId, raw) => {
    if (nodeId === to && methods.some((m) => raw.includes(names(m)))) {
      dropped++;
      return mode === 'refuse' ? 0 : 1;
    }
    if (also.some(([node, m]) => node === nodeId && raw.includes(names(m)))) return 1;
    return inject(nodeId, raw);
  };
  return {
    get dropped() {
      return dropped;
    },
    end: () => void (hub.inject = inject),
  };
}

const viewer = (node: InProcessNode, roomId: string, name: string): Promise<CountingSubscriber> =>
  countingSubscriber(node.wsUrl, roomId, name, HOST_BOTS);

async function publisher(node: InProcessNode, roomId: string, name: string) {
  const sig = await TuttiSignaling.join(node.wsUrl, roomId, name);
  const pub = new PublisherBot(sig, { video, audio: undefined }, { name, bindAddress: HOST_BOTS });
  await pub.start();
  return pub;
}

describe('media across nodes: an origin away for longer than three tries', () => {
  const hub = new LocalClusterHub();
  const nodes = useMediaNodePair({
    a: { nodeId: 'retry-a', host: HOST_A, hub },
    b: { nodeId: 'retry-b', host: HOST_B, hub },
    rooms: ['Away', 'Silent', 'Left', 'Gone'],
  });
  const { closers, roomOf, bWatchingA } = nodes;

  test('the origin unreachable for 4 s: the viewer on the edge receives once it is back', async () => {
    const roomId = roomOf('Away');
    const pub = await publisher(nodes.a, roomId, 'pub');
    closers.push(() => pub.close());
    const away = outage(hub, 'retry-a', ['media.watch'], 'refuse');
    let v: CountingSubscriber;
    try {
      v = await viewer(nodes.b, roomId, 'v');
      closers.push(() => v.close());
      await sleep(4000); // The old edge gave up after 1.5 s (3 tries, 0.5 and 1 s apart).
      assert.ok(away.dropped >= 4, `watched again while away (${away.dropped} tries)`);
    } finally {
      away.end();
    }
    const id = pub.producerIds[0]!;
    await until('the viewer on b receiving a’s camera', () => v.packets(id) >= 20, 20_000);
    assert.equal(nodes.b.app.tutti.mediaFederation.edge.retrying, 0);
  });

  test('pipe.consume swallowed for 7 s (each try times out): the late camera reaches b', async () => {
    const roomId = roomOf('Silent');
    const v = await viewer(nodes.b, roomId, 'v');
    closers.push(() => v.close());
    await bWatchingA(roomId);
    const silent = outage(hub, 'retry-a', ['pipe.consume'], 'swallow');
    let id: string;
    try {
      const pub = await publisher(nodes.a, roomId, 'late');
      closers.push(() => pub.close());
      id = pub.producerIds[0]!;
      // Three tries of 1.5 s each, 0.5 and 1 s apart: the old edge gave up after 6 s.
      await sleep(7000);
      assert.ok(silent.dropped >= 3, `asked again (${silent.dropped} tries)`);
      assert.equal(v.packets(id), 0);
    } finally {
      silent.end();
    }
    await until('the late camera at the viewer on b', () => v.packets(id) >= 20, 20_000);
  });

  test('the tries stop when the room’s last member on the edge leaves', async () => {
    const roomId = roomOf('Left');
    const pub = await publisher(nodes.a, roomId, 'pub');
    closers.push(() => pub.close());
    const away = outage(hub, 'retry-a', ['media.watch'], 'refuse');
    try {
      const v = await viewer(nodes.b, roomId, 'v');
      await until('b tries again', () => away.dropped >= 3, 8000);
      v.close();
      await until(
        'no retry pending on b',
        () => nodes.b.app.tutti.mediaFederation.edge.retrying === 0,
      );
      const dropped = away.dropped;
      await sleep(6000); // Longer than the capped backoff.
      assert.equal(away.dropped, dropped, 'not asked again');
    } finally {
      away.end();
    }
  });

  test('the tries stop when the producer’s member leaves the origin', async () => {
    const roomId = roomOf('Gone');
    const v = await viewer(nodes.b, roomId, 'v');
    closers.push(() => v.close());
    await bWatchingA(roomId);
    // Its close is not announced either: only presence can tell b the producer is gone.
    const silent = outage(hub, 'retry-a', ['pipe.consume'], 'refuse', [
      ['retry-b', 'media.producerClosed'],
    ]);
    try {
      const pub = await publisher(nodes.a, roomId, 'brief');
      await until('b tries again', () => silent.dropped >= 3, 8000);
      pub.close(); // Its member leaves a: presence on b drops it.
      await until('b has no member of a in the room', () =>
        nodes.b.app.tutti.cluster.remote.peers(roomId).every((p) => p.nickname !== 'brief'),
      );
      await until(
        'no retry pending on b',
        () => nodes.b.app.tutti.mediaFederation.edge.retrying === 0,
        8000,
      );
      const dropped = silent.dropped;
      await sleep(6000);
      assert.equal(silent.dropped, dropped, 'not asked again');
    } finally {
      silent.end();
    }
  });
});
