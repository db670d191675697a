import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ndc from 'node-datachannel';
import { Redis } from 'ioredis';
import { errorCodeOf, errorText, type GameSnapshot, type Stroke } from '@tutti/protocol';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { PublisherBot } from '../../../test/load/bots.ts';
import { loadOpusFixture, type FixtureTrack } from '../../../test/load/rtp.ts';
import { TuttiSignaling } from '../../../test/load/signaling.ts';
import { loadKoreanDictionary } from '../../src/games/dictionary.ts';
import { allowedStarts } from '../../src/games/hangul.ts';
import {
  presenceKey,
  sealPresence,
  type PresenceMessage,
} from '../../src/federation/presenceEvents.ts';
import {
  FreezableHub,
  startClusterApps,
  type ClusterApp,
  type ClusterApps,
} from '../helpers/clusterApps.ts';
import { createTestSchema, type TestSchema } from '../helpers/pgSchema.ts';
import { startS3rver } from '../helpers/storageS3rver.ts';
import { sleep } from './bot.ts';

// Room life across the nodes of one cluster (issue 14 × issue 9): members on two nodes play
// one game (one authority: turns, refusals and scores are the same on both), see each other's
// reactions, raised hands and captions. Once on the in-process hub, once on Redis + PostgreSQL.

const REDIS = process.env.TUTTI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const GOFORWARD = '/usr/share/pocketsphinx/test/data/goforward.raw';
const CAPTIONS_IP = process.env.TUTTI_TEST_CAPTIONS_IP ?? '127.0.0.51';

interface Env {
  apps: ClusterApps;
  hub?: FreezableHub;
  close(): Promise<void>;
}

const clients: SignalingClient[] = [];
const closers: (() => void)[] = [];

async function join(node: ClusterApp, roomId: string, nickname: string, ownerSecret?: string) {
  const client = await connectSignaling(node.wsUrl);
  clients.push(client);
  const answer = await client.request('room.join', {
    roomId,
    nickname,
    ...(ownerSecret && { ownerSecret }),
  });
  return { client, answer, id: answer.self.id };
}
type Joined = Awaited<ReturnType<typeof join>>;

async function createRoom(node: ClusterApp, name: string) {
  const c = await connectSignaling(node.wsUrl);
  const r = await c.request('room.create', { name });
  c.close();
  return { roomId: r.room.id, ownerSecret: r.ownerSecret };
}

/** Asserts a request is refused with `code: refusal: …`. */
async function refused(p: Promise<unknown>, code: string, refusal: string): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.equal(errorCodeOf(e), code, String(e));
    assert.ok(errorText(e).startsWith(refusal), String(e));
    return true;
  });
}

const state = async (m: Joined): Promise<GameSnapshot | null> =>
  (await m.client.request('game.state', {})).game;

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function suite(variant: string, setup: () => Promise<Env>): void {
  describe(`cluster room life (${variant})`, () => {
    let env: Env;
    let a: ClusterApp, b: ClusterApp;
    before(async () => {
      env = await setup();
      [a, b] = env.apps.nodes as [ClusterApp, ClusterApp];
    });
    after(async () => {
      for (const cl of clients.splice(0)) cl.close();
      for (const close of closers.splice(0)) close();
      await sleep(300);
      await env?.close();
    });

    test('끝말잇기 across two nodes: one turn order, refusals with reasons, the same scores', async () => {
      const dict = await loadKoreanDictionary();
      const { roomId } = await createRoom(a, `Chain ${variant}`);
      const ann = await join(a, roomId, 'Ann'); // First in: node a runs the room's life.
      const ben = await join(b, roomId, 'Ben');
      const cy = await join(b, roomId, 'Cy');
      await ann.client.nextNotification('room.peerJoined', (d) => d.peer.id === cy.id);
      assert.equal(cy.answer.game, null);

      // Started on b: the game runs on a, with every member of both nodes, Ben first.
      const { game } = await ben.client.request('game.start', { kind: 'wordchain' });
      assert.equal(game.kind, 'wordchain');
      assert.ok(game.kind === 'wordchain');
      assert.deepEqual(game.players.map((p) => p.nickname).sort(), ['Ann', 'Ben', 'Cy']);
      const started = await ann.client.nextNotification('game.started');
      assert.deepEqual(started.game.kind === 'wordchain' && started.game.players, game.players);
      for (const m of [ann, cy]) {
        const turn = await m.client.nextNotification('game.wordchain.turn');
        assert.equal(turn.playerId, ben.id);
      }
      // A second game, from either node, is refused: one game per room, cluster-wide.
      await refused(
        ann.client.request('game.start', { kind: 'choseong' }),
        'INVALID_REQUEST',
        'GAME_RUNNING',
      );
      await refused(
        cy.client.request('game.start', { kind: 'catchmind' }),
        'INVALID_REQUEST',
        'GAME_RUNNING',
      );
      // Out of turn on either node, and a bad word on b: refused with the reason.
      await refused(
        ann.client.request('game.word', { word: '기차' }),
        'FORBIDDEN',
        'NOT_YOUR_TURN',
      );
      await refused(cy.client.request('game.word', { word: '기차' }), 'FORBIDDEN', 'NOT_YOUR_TURN');
      await refused(
        ben.client.request('game.word', { word: '기차쀍쀍' }),
        'INVALID_REQUEST',
        'NOT_IN_DICTIONARY',
      );
      const first = '기차';
      assert.ok(dict.has(first));
      await ben.client.request('game.word', { word: first });
      for (const m of [ann, cy]) {
        assert.deepEqual(await m.client.nextNotification('game.wordchain.word'), {
          playerId: ben.id,
          word: first,
        });
      }
      const next = await ann.client.nextNotification('game.wordchain.turn');
      await refused(
        (next.playerId === ann.id ? ann : cy).client.request('game.word', { word: '사과' }),
        'INVALID_REQUEST',
        'WRONG_START',
      );
      assert.deepEqual(next.startsWith, allowedStarts(first));
      const second = dict.startingWith('차').find((w) => w !== first)!;
      await (next.playerId === ann.id ? ann : cy).client.request('game.word', { word: second });
      await ben.client.nextNotification('game.wordchain.word', (w) => w.word === second);
      // The same game on both nodes, as each member sees it.
      const views = await Promise.all([ann, ben, cy].map(state));
      assert.equal(JSON.stringify(views[0]), JSON.stringify(views[1]));
      assert.equal(JSON.stringify(views[1]), JSON.stringify(views[2]));

      // A node cannot play for another node's member: b relaying as Ann (who sits on a).
      const forged = b.app.tutti.cluster.rpc.request(a.nodeId, 'life.request', {
        roomId,
        memberId: ann.id,
        method: 'game.stop',
        data: {},
      });
      await assert.rejects(forged, (err: { code?: string }) => err.code === 'FORBIDDEN');

      await ben.client.request('game.stop', {});
      const ends = await Promise.all(
        [ann, ben, cy].map((m) => m.client.nextNotification('game.ended')),
      );
      for (const ended of ends) {
        assert.equal(ended.reason, 'stopped');
        assert.deepEqual(ended.scores, ends[0]!.scores);
      }
      const scored = Object.fromEntries(ends[0]!.scores.map((s) => [s.nickname, s.score]));
      assert.equal(scored.Ben, 1);
      assert.equal(scored[next.playerId === ann.id ? 'Ann' : 'Cy'], 1);
      assert.equal(await state(cy), null);
    });

    test('CatchMind across nodes: the drawer on b alone gets the word; strokes and guesses cross', async () => {
      const { roomId } = await createRoom(a, `Drawing ${variant}`);
      const ann = await join(a, roomId, 'Ann');
      const ben = await join(b, roomId, 'Ben');
      const cy = await join(b, roomId, 'Cy');
      await ann.client.nextNotification('room.peerJoined', (d) => d.peer.id === cy.id);

      await ben.client.request('game.start', { kind: 'catchmind', options: { rounds: 2 } });
      const round = await ann.client.nextNotification('game.catchmind.round');
      assert.equal(round.drawerId, ben.id);
      const { word } = await ben.client.nextNotification('game.catchmind.word');
      const benView = await state(ben);
      assert.ok(benView?.kind === 'catchmind' && benView.word === word);
      const annView = await state(ann);
      assert.ok(annView?.kind === 'catchmind' && annView.word === undefined);

      const stroke: Stroke = {
        color: '#1e88e5',
        width: 8,
        points: [
          [10, 20],
          [300, 400],
        ],
      };
      await refused(ann.client.request('game.draw', { stroke }), 'FORBIDDEN', 'NOT_DRAWER');
      await refused(
        ben.client.request('game.draw', { stroke: { ...stroke, points: [[5000, 1]] } } as never),
        'INVALID_REQUEST',
        'stroke',
      );
      await ben.client.request('game.draw', { stroke });
      const drawn = await ann.client.nextNotification('game.catchmind.stroke');
      assert.deepEqual(drawn, { drawerId: ben.id, stroke });
      for (const m of [ann, cy]) {
        const view = await state(m);
        assert.ok(view?.kind === 'catchmind');
        assert.deepEqual(view.strokes, [stroke]);
      }

      // The drawer (on b) typing the word is refused by the game's node and never relayed.
      await refused(
        ben.client.request('chat.send', { text: `it is ${word}` }),
        'FORBIDDEN',
        'NOT_ALLOWED',
      );
      await cy.client.request('chat.send', { text: '모르겠다' });
      await ann.client.request('chat.send', { text: word });
      const solvedAtB = await cy.client.nextNotification('game.catchmind.solved');
      const solvedAtA = await ann.client.nextNotification('game.catchmind.solved');
      assert.deepEqual(solvedAtB, solvedAtA);
      assert.equal(solvedAtB.playerId, ann.id);
      assert.equal(solvedAtB.word, word);
      // Nobody but the drawer saw the word before it was solved.
      for (const m of [ann, cy]) {
        const log = m.client.notifications;
        const at = log.findIndex((n) => n.method === 'game.catchmind.solved');
        for (const n of log.slice(0, at)) {
          const text = (n.data as { message?: { text: string } }).message?.text;
          if (n.method === 'chat.message' && text === word) continue; // Ann's guess itself.
          assert.ok(!JSON.stringify(n.data).includes(word), `${n.method} leaked the word`);
        }
      }
      const chatAtA = ann.client.notifications
        .filter((n) => n.method === 'chat.message')
        .map((n) => (n.data as { message: { text: string } }).message.text);
      assert.ok(!chatAtA.some((t) => t.startsWith('it is')), 'the drawer’s word was not relayed');

      // Round 2: the next drawer is told its word, wherever it sits; a guess from b scores.
      const second = await cy.client.nextNotification(
        'game.catchmind.round',
        (r) => r.round === 2,
        10_000,
      );
      const drawer = [ann, ben, cy].find((m) => m.id === second.drawerId)!;
      const { word: word2 } = await drawer.client.nextNotification(
        'game.catchmind.word',
        (w) => w.round === 2,
      );
      const guesser = drawer === cy ? ben : cy;
      assert.equal((await guesser.client.request('game.guess', { text: word2 })).correct, true);
      const ended = await Promise.all(
        [ann, cy].map((m) => m.client.nextNotification('game.ended', undefined, 15_000)),
      );
      assert.deepEqual(ended[0], ended[1]);
      assert.equal(ended[0]!.reason, 'finished');
    });

    test('a reaction and a raised hand on one node are seen on the other; a late joiner gets the queue', async () => {
      const { roomId, ownerSecret } = await createRoom(a, `Hands ${variant}`);
      const olga = await join(a, roomId, 'Olga', ownerSecret);
      const ben = await join(b, roomId, 'Ben');
      await olga.client.nextNotification('room.peerJoined', (d) => d.peer.id === ben.id);

      await olga.client.request('reaction.send', { emoji: '🎉' });
      const seen = await ben.client.nextNotification('reaction.sent');
      assert.equal(seen.peerId, olga.id);
      assert.equal(seen.emoji, '🎉');
      await ben.client.request('reaction.send', { emoji: '👍' });
      const back = await olga.client.nextNotification('reaction.sent', (r) => r.peerId === ben.id);
      assert.equal(back.emoji, '👍');
      // The rate limit is one, wherever the reactions come from.
      const burst = await Promise.allSettled(
        Array.from({ length: 8 }, () => ben.client.request('reaction.send', { emoji: '👏' })),
      );
      const limited = burst.filter((r) => r.status === 'rejected');
      assert.ok(limited.length >= 1, 'a burst through b is rate limited');
      assert.ok(limited.every((r) => errorCodeOf(r.reason) === 'RATE_LIMITED'));

      const raised = await ben.client.request('hand.raise', {});
      assert.deepEqual(
        raised.queue.map((h) => h.peerId),
        [ben.id],
      );
      const atA = await olga.client.nextNotification('hand.queue');
      assert.deepEqual(atA, raised);
      await olga.client.request('hand.raise', {});
      const both = await ben.client.nextNotification('hand.queue', (q) => q.queue.length === 2);
      assert.deepEqual(
        both.queue.map((h) => h.peerId),
        [ben.id, olga.id],
      );
      // A late joiner on b, whose node runs nothing of the room, gets the queue in its answer.
      const cy = await join(b, roomId, 'Cy');
      assert.deepEqual(cy.answer.hands, both);
      // The owner (on a) lowers Ben's hand (on b); Ben leaving lowers nothing more.
      await refused(
        cy.client.request('hand.lower', { peerId: olga.id }),
        'FORBIDDEN',
        'NOT_ALLOWED',
      );
      await olga.client.request('hand.lower', { peerId: ben.id });
      const lowered = await cy.client.nextNotification('hand.queue', (q) => q.queue.length === 1);
      assert.deepEqual(
        lowered.queue.map((h) => h.peerId),
        [olga.id],
      );
      await cy.client.request('hand.raise', {});
      await olga.client.nextNotification('hand.queue', (q) => q.queue.length === 2);
      cy.client.close();
      const gone = await olga.client.nextNotification('hand.queue', (q) =>
        q.queue.every((h) => h.peerId !== cy.id),
      );
      assert.deepEqual(
        gone.queue.map((h) => h.peerId),
        [olga.id],
      );
    });

    test('room-life events on the bus are parsed with the protocol schemas: a malformed one is dropped', async () => {
      const { roomId } = await createRoom(a, `Bus ${variant}`);
      await join(a, roomId, 'Ann');
      const ben = await join(b, roomId, 'Ben');
      // Signed with the cluster's key, as a node would: only the shape is wrong.
      const key = presenceKey(b.config.files.secret!);
      const send = (event: unknown) =>
        b.app.tutti.cluster.bus.receiveRaw(
          sealPresence({ v: 1, from: a.nodeId, event } as PresenceMessage, key),
        );
      const life = (event: unknown) => ({ type: 'life.event', roomId, event });
      send(life({ method: 'game.catchmind.word', data: { round: 1 } })); // no word
      send(life({ method: 'chat.message', data: { text: 'x' } })); // not room life
      send(life({ method: 'reaction.sent', data: { peerId: 'x', emoji: '💩', at: 1 } }));
      send({ type: 'captions.line', roomId, line: { peerId: 'x', text: 'hi' } });
      send(life({ method: 'reaction.sent', data: { peerId: 'x', emoji: '👋', at: 1 } }));
      const got = await ben.client.nextNotification('reaction.sent');
      assert.deepEqual(
        got,
        { peerId: 'x', emoji: '👋', at: 1 },
        'the well-formed one went through',
      );
      await sleep(200);
      const methods = ben.client.notifications.map((n) => n.method);
      for (const m of ['game.catchmind.word', 'chat.message', 'captions.line'] as const) {
        assert.ok(!methods.includes(m), `${m} was relayed`);
      }
      assert.equal(methods.filter((m) => m === 'reaction.sent').length, 1);
    });

    test('a caption of a speaker on a reaches a member on b', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'tutti-cluster-captions-'));
      closers.push(() => rmSync(dir, { recursive: true, force: true }));
      const ogg = path.join(dir, 'goforward.ogg');
      execFileSync('ffmpeg', [
        ...['-hide_banner', '-loglevel', 'error', '-y'],
        ...['-f', 's16le', '-ar', '16000', '-ac', '1', '-i', GOFORWARD, '-af', 'apad=pad_dur=3'],
        ...['-c:a', 'libopus', '-b:a', '32k', '-frame_duration', '20', '-application', 'voip'],
        ...['-ar', '48000', '-ac', '1', '-f', 'ogg', ogg],
      ]);
      const speech: FixtureTrack = loadOpusFixture(pathToFileURL(ogg));
      const { roomId, ownerSecret } = await createRoom(a, `Captions ${variant}`);
      const olga = await join(a, roomId, 'Olga', ownerSecret);
      const ben = await join(b, roomId, 'Ben');
      await olga.client.nextNotification('room.peerJoined', (d) => d.peer.id === ben.id);
      await olga.client.request('captions.set', { enabled: true, ownerSecret });
      // Turned on at a, on at b too (b would transcribe its own speakers).
      const on = await ben.client.nextNotification('captions.state', (s) => s.captions.enabled);
      assert.equal(on.captions.enabledBy, olga.id);

      const sig = await TuttiSignaling.join(a.wsUrl, roomId, 'alice');
      const bot = new PublisherBot(
        sig,
        { video: undefined, audio: speech },
        { name: 'alice', bindAddress: '127.0.0.1' },
      );
      closers.push(() => bot.close());
      await bot.start();
      const alice = await ben.client.nextNotification(
        'room.peerJoined',
        (d) => d.peer.nickname === 'alice',
      );
      // pocketsphinx runs well below real time on a loaded box: allow for it.
      const line = await ben.client.nextNotification(
        'captions.line',
        (l) => l.final && /forward/.test(l.text),
        60_000,
      );
      assert.equal(line.peerId, alice.peer.id);
      assert.match(line.text, /go forward ten meters/);
      await until('the same line at a', () =>
        olga.client.notifications.some(
          (n) => n.method === 'captions.line' && (n.data as { id: string }).id === line.id,
        ),
      );
      // b empties and fills again: captions are still on there (they are on at a).
      ben.client.close();
      await olga.client.nextNotification('room.peerLeft', (d) => d.peerId === ben.id);
      const dan = await join(b, roomId, 'Dan');
      assert.equal(dan.answer.captions?.enabled, true);
      assert.equal(dan.answer.captions?.enabledBy, olga.id);
      bot.close();
    });

    // Last: it takes node a down.
    test('the room’s node dies: its game ends for the others, and the room’s life starts again on b', async (t) => {
      if (!env.hub) return t.skip('in process only (the hub can freeze a node)');
      const { roomId } = await createRoom(a, `Death ${variant}`);
      const ann = await join(a, roomId, 'Ann'); // a runs the room's life
      const ben = await join(b, roomId, 'Ben');
      const cy = await join(b, roomId, 'Cy');
      await ann.client.nextNotification('room.peerJoined', (d) => d.peer.id === cy.id);
      await ben.client.request('game.start', { kind: 'choseong', options: { rounds: 5 } });
      await ben.client.nextNotification('game.choseong.round');
      for (const m of [ann, cy, ben]) await m.client.request('hand.raise', {});
      await ben.client.nextNotification('hand.queue', (q) => q.queue.length === 3);
      env.hub.frozen.add(a.nodeId);
      await a.app.tutti.cluster.registry.stop();
      const ended = await ben.client.nextNotification('game.ended', undefined, 10_000);
      assert.deepEqual(ended, { kind: 'choseong', reason: 'stopped', winners: [], scores: [] });
      await ben.client.nextNotification('room.peerLeft', (d) => d.peerId === ann.id);
      // b takes the room over (a compare-and-set on the gone holder) with the queue it had
      // heard, less those who went with a, in its order; games start again.
      const raised = await ben.client.request('hand.raise', {});
      assert.deepEqual(
        raised.queue.map((h) => h.peerId),
        [cy.id, ben.id],
      );
      const told = await cy.client.nextNotification(
        'hand.queue',
        (q) => q.queue.length === 2 && q.queue[0]?.peerId === cy.id,
      );
      assert.deepEqual(told, raised);
      const { game } = await ben.client.request('game.start', { kind: 'choseong' });
      assert.equal(game.kind, 'choseong');
      await ben.client.request('game.stop', {});
      await a.stop();
    });
  });
}

const captions = { listenIp: CAPTIONS_IP, maxStreams: 2 };

suite('in process', async () => {
  const hub = new FreezableHub();
  const apps = await startClusterApps(2, { captions }, { hub, prefix: `life-${process.pid}-` });
  return { apps, hub, close: () => apps.stop().then(() => ndc.cleanup()) };
});

suite('Redis + PostgreSQL', async () => {
  const prefix = `tutti:life-test-${process.pid}:`;
  const schema: TestSchema = await createTestSchema();
  const s3 = await startS3rver();
  const apps = await startClusterApps(
    2,
    {
      redis: { url: REDIS },
      database: { url: schema.url },
      files: { driver: 's3', s3: { ...s3.settings('life'), createBucket: true } },
      cluster: { redisPrefix: prefix },
      captions,
    },
    { prefix: `life-redis-${process.pid}-` },
  );
  return {
    apps,
    async close() {
      await apps.stop();
      ndc.cleanup();
      await s3.stop();
      await schema.drop();
      const admin = new Redis(REDIS);
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length) await admin.del(...keys);
      await admin.quit();
    },
  };
});
