import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import type { JoinResult } from '@tutti/protocol';
import {
  startClusterProcesses,
  type ClusterNodeProcess,
  type ClusterProcesses,
} from '../../../test/helpers/clusterProcesses.ts';
import { TEST_REDIS_URL } from '../../../test/helpers/redisKeys.ts';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { savedQuizAnswer } from './savedQuiz.ts';

/** Three nodes' hosts: TUTTI_TEST_CLUSTER_HOSTS (comma-separated) overrides the default. */
const HOSTS = (process.env.TUTTI_TEST_CLUSTER_HOSTS ?? '127.0.0.2,127.0.0.3,127.0.0.4').split(',');

type ThreeNodes = [ClusterNodeProcess, ClusterNodeProcess, ClusterNodeProcess];
type Trio = 'ann' | 'ben' | 'cy';

export interface LifeMember {
  client: SignalingClient;
  answer: JoinResult;
  id: string;
  node: ClusterNodeProcess;
}

export interface RoomLifeProcesses {
  /** The three nodes (set once the `before` hook ran). */
  readonly nodes: ThreeNodes;
  /** The cluster, for its Redis prefix and its nodes' logs. */
  readonly cluster: ClusterProcesses;
  /** Creates a room through `node` on a socket closed right after. */
  createRoom: (node: ClusterNodeProcess, name: string) => Promise<string>;
  /** A socket of its own on `node`, joined to the room as `nickname` (closed in `after`). */
  member: (node: ClusterNodeProcess, roomId: string, nickname: string) => Promise<LifeMember>;
  /**
   * A room made through the first node with Ann joined there (so that node runs the room's
   * life), Ben on the second and Cy on the third; resolves once Ann sees Cy.
   */
  annBenCy: (roomName: string) => Promise<{ roomId: string } & Record<Trio, LifeMember>>;
  /** The node id that holds the room's life claim in Redis (null: nobody). */
  holderOf: (roomId: string) => Promise<string | null>;
  /** The quiz's answer of `round` as the room's holder saved it (savedQuiz.ts). */
  answerOf: (roomId: string, round: number, tries: number) => Promise<string>;
  /** Runs `body`; if it throws, prints each node's warnings and life / node-left lines first. */
  printingLogsOnFailure: (body: () => Promise<void>) => Promise<void>;
}

/**
 * Three `server/src/main.ts` processes on Redis and PostgreSQL (test/helpers/clusterProcesses.ts)
 * for the room-life tests that kill or freeze one for real, started in `before` and stopped in
 * `after` (a node a test froze with SIGSTOP is thawed first), with a Redis client to look at the
 * room's life and the members' sockets closed. A killed run (Ctrl-C, the runner's timeout) does
 * not leave three servers behind: they are killed on exit.
 */
export function useRoomLifeProcesses(): RoomLifeProcesses {
  let cluster: ClusterProcesses | undefined;
  let redis: Redis | undefined;
  const clients: SignalingClient[] = [];
  const killAll = () => {
    for (const n of cluster?.nodes ?? []) if (n.proc.child.exitCode === null) n.signal('SIGKILL');
  };
  before(async () => {
    process.once('exit', killAll);
    cluster = await startClusterProcesses({ hosts: HOSTS.slice(0, 3), readyTimeoutMs: 60_000 });
    redis = new Redis(TEST_REDIS_URL);
  });
  after(async () => {
    for (const n of cluster?.nodes ?? []) n.signal('SIGCONT');
    for (const c of clients) c.close();
    await redis?.quit();
    await cluster?.stop();
    process.off('exit', killAll);
  });
  const started = () => cluster ?? assert.fail('the cluster is not started');
  const store = () => redis ?? assert.fail('the cluster is not started');
  const lifeKey = (roomId: string) => `${started().redisPrefix}life:${roomId}`;
  const life: RoomLifeProcesses = {
    get nodes() {
      return started().nodes as ThreeNodes;
    },
    get cluster() {
      return started();
    },
    async createRoom(node, name) {
      const c = await connectSignaling(node.wsUrl);
      try {
        return (await c.request('room.create', { name })).room.id;
      } finally {
        c.close();
      }
    },
    async member(node, roomId, nickname) {
      const client = await connectSignaling(node.wsUrl);
      clients.push(client);
      const answer = await client.request('room.join', { roomId, nickname });
      return { client, answer, id: answer.self.id, node };
    },
    async annBenCy(roomName) {
      const [n1, n2, n3] = life.nodes;
      const roomId = await life.createRoom(n1, roomName);
      const ann = await life.member(n1, roomId, 'Ann');
      const ben = await life.member(n2, roomId, 'Ben');
      const cy = await life.member(n3, roomId, 'Cy');
      await ann.client.nextNotification('room.peerJoined', (d) => d.peer.id === cy.id);
      return { roomId, ann, ben, cy };
    },
    holderOf: (roomId) => store().get(lifeKey(roomId)),
    answerOf: (roomId, round, tries) =>
      savedQuizAnswer(store(), started().redisPrefix, roomId, round, tries),
    async printingLogsOnFailure(body) {
      try {
        await body();
      } catch (err) {
        // What each node said: the test's own notifications rarely tell why.
        for (const n of started().nodes) {
          const lines = n.proc.logs.filter((l) => l.level >= 40 || /life|node left/.test(l.msg));
          console.error(`--- ${n.nodeId}\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
        }
        throw err;
      }
    },
  };
  return life;
}
