import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ensureRoom, TuttiSignaling } from '../../../test/load/signaling.ts';
import {
  sharedDataDir,
  sleep,
  startNode,
  until,
  type InProcessNode,
  type NodeSpec,
} from './clusterNodes.ts';

/** A node of the pair: its data directory is the pair's. */
export type PairNodeSpec = Omit<NodeSpec, 'dataDir'>;

export interface MediaNodePairOptions {
  /** Node a (the origin: the rooms are made there); a function is called in `before`. */
  a: PairNodeSpec | (() => PairNodeSpec);
  /** Node b (the edge), likewise. */
  b: PairNodeSpec | (() => PairNodeSpec);
  /** Rooms made through a before b starts (b loads the shared store's rooms at start-up). */
  rooms: string[];
  /** Wait in `before` until each node's registry lists both. */
  untilBothListed?: boolean;
  /** Runs in `before`, before a starts (e.g. a Redis of the test's own the specs point at). */
  setUp?: () => Promise<void> | void;
  /** Runs in `after`, once both nodes stopped and the data directory is removed. */
  tearDown?: () => Promise<void> | void;
  /** A node's stop may fail, not the test's concern (tests that stop parts of it themselves). */
  ignoreStopErrors?: boolean;
}

export interface MediaNodePair {
  readonly a: InProcessNode;
  readonly b: InProcessNode;
  /** Bots and sockets of the tests, closed before the nodes stop. */
  readonly closers: (() => void)[];
  /** The id of a room of `rooms`. */
  roomOf: (name: string) => string;
  /**
   * A member without media joins the room on a (closed with the closers), so that b, hosting
   * the room too, watches a for it: resolves once a's origin lists b as a watcher.
   */
  bWatchingA: (roomId: string) => Promise<void>;
}

/**
 * Two Tutti nodes in this process for the media-across-nodes tests (real workers, a data
 * directory they share), started in `before` and stopped in `after` of the enclosing describe:
 * what the tests opened is closed first, 300 ms for it to leave, node-datachannel's threads
 * cleaned up, then b and a stopped and the directory removed.
 */
export function useMediaNodePair(opts: MediaNodePairOptions): MediaNodePair {
  const data = sharedDataDir();
  const closers: (() => void)[] = [];
  const roomIds = new Map<string, string>();
  let a: InProcessNode | undefined;
  let b: InProcessNode | undefined;
  const spec = (s: PairNodeSpec | (() => PairNodeSpec)): NodeSpec => ({
    ...(typeof s === 'function' ? s() : s),
    dataDir: data.dir,
  });
  before(async () => {
    await opts.setUp?.();
    a = await startNode(spec(opts.a));
    for (const name of opts.rooms) roomIds.set(name, await ensureRoom(a.wsUrl, name));
    b = await startNode(spec(opts.b));
    if (opts.untilBothListed) {
      const both = [a, b];
      await until('both nodes see each other', () =>
        both.every((n) => n.app.tutti.cluster.registry.nodes().length === 2),
      );
    }
  });
  after(async () => {
    for (const close of closers) close();
    await sleep(300);
    const stop = (n: InProcessNode | undefined) =>
      opts.ignoreStopErrors ? n?.stop().catch(() => {}) : n?.stop();
    await stop(b);
    await stop(a);
    data.remove();
    await opts.tearDown?.();
  });
  const pair: MediaNodePair = {
    get a() {
      return a ?? assert.fail('node a is not started');
    },
    get b() {
      return b ?? assert.fail('node b is not started');
    },
    closers,
    roomOf: (name) => roomIds.get(name) ?? assert.fail(`no room ${name}`),
    async bWatchingA(roomId) {
      const origin = pair.a.app.tutti.mediaFederation.origin;
      const idle = await TuttiSignaling.join(pair.a.wsUrl, roomId, 'idle');
      closers.push(() => idle.close());
      await until('b watches a for the room', () => origin.watchers(roomId).has(pair.b.nodeId));
    },
  };
  return pair;
}
