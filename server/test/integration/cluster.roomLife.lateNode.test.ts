import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkerPool } from '@tutti/media-workers';
import { LocalChatBus } from '../../src/chat/LocalChatBus.ts';
import { LocalClusterHub } from '../../src/cluster/index.ts';
import { hubLives } from '../../src/federation/lifeClaims.ts';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { chatView, startAppNode, type ClusterApp } from '../helpers/clusterApps.ts';

// A node reads the registry once a heartbeat: a node started since its last scan is not
// listed there yet, though alive. The room life of such a node must not be taken from it
// (federation/roomLifeRelay.ts asks the registry again before a holder counts as gone): two
// lives for one room leave the first node judging its members' chat guesses with a life that
// has no game. In the kill -9 test this is what happened right after start-up: the room was
// taken at a join, and the node killed did not run it.

const hub = new LocalClusterHub();
const dataDir = mkdtempSync(path.join(tmpdir(), 'tutti-late-node-'));
const chat = new LocalChatBus();
const clients: SignalingClient[] = [];
let pool: WorkerPool;
let early: ClusterApp, late: ClusterApp;

const node = (name: string, cluster: Record<string, unknown>) =>
  startAppNode({
    nodeId: `${name}-${process.pid}`,
    host: '127.0.0.1',
    dataDir,
    overrides: { files: { secret: 'late-node-test-secret-0123456789' }, cluster },
    workerPool: pool,
    hub,
    chatBus: chatView(chat),
  });

before(async () => {
  pool = await WorkerPool.create({ numWorkers: 1 });
  // Started first, scanning once a minute: it will not list the node started after it.
  early = await node('early', { heartbeatMs: 60_000, nodeTimeoutMs: 120_000 });
  late = await node('late', {});
});

after(async () => {
  for (const c of clients) c.close();
  await late?.stop();
  await early?.stop();
  pool?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function member(at: ClusterApp, roomId: string, nickname: string) {
  const client = await connectSignaling(at.wsUrl);
  clients.push(client);
  const answer = await client.request('room.join', { roomId, nickname });
  return { client, id: answer.self.id };
}

test('a node not listed yet by another keeps the room it runs; its member’s guess counts', async () => {
  assert.equal(early.app.tutti.cluster.registry.get(late.nodeId), undefined, 'not listed yet');
  const c = await connectSignaling(late.wsUrl);
  const roomId = (await c.request('room.create', { name: 'Late node' })).room.id;
  c.close();
  const ann = await member(late, roomId, 'Ann'); // late runs the room's life
  const ben = await member(early, roomId, 'Ben'); // early has not seen late in the registry
  const holder = await late.app.tutti.cluster.lifeClaims.claim(roomId, 'just-asking');
  assert.equal(holder, late.nodeId, 'the room stays with the node that runs it');

  await ben.client.request('game.start', { kind: 'choseong', options: { rounds: 1, seconds: 30 } });
  await ann.client.nextNotification('game.choseong.round', (r) => r.round === 1);
  let answer: string | null | undefined;
  for (let i = 0; i < 100 && !answer; i++) {
    const state = hubLives.get(hub)?.get(roomId)?.state;
    answer = state ? (JSON.parse(state) as { game?: { answer?: string } }).game?.answer : null;
    if (!answer) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(answer, 'the round is saved');
  // Judged by the room's one life: with two, Ann's node would screen it with one that has no game.
  await ann.client.request('chat.send', { text: answer });
  const solved = await ben.client.nextNotification('game.choseong.solved');
  assert.equal(solved.playerId, ann.id);
});
