import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connectSignaling } from '../../../test/helpers/signalingClient.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { sleep } from './bot.ts';

/**
 * A member who left is garbage once gone. The soak's heap snapshots (docs/benchmarks.md,
 * soak) found every room keeping its first joiner's channel (socket, transport, buffers)
 * for the room's whole life: the media federation's 'produced' listener, added at that
 * join, shared its scope with the member.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Joins `roomId`; returns a weak reference to the member's channel on the server. */
async function weakChannelOf(s: TestServer, roomId: string, nickname: string) {
  const client = await connectSignaling(s.wsUrl);
  const joined = await client.request('room.join', { roomId, nickname });
  const member = s.app.tutti.rooms.get(roomId)?.member(joined.self.id);
  assert.ok(member, 'the member is in the room');
  return { client, channel: new WeakRef(member.channel) };
}

async function collected(ref: WeakRef<object>, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    gc();
    if (ref.deref() === undefined) return true;
    await sleep(100);
  }
  return false;
}

test('a member who left is not kept in memory by its room (first joiner, later joiner)', async () => {
  const host = process.env.TUTTI_TEST_HOST ?? '127.0.0.1';
  const s = await startTestServer({ server: { host }, media: { listenIp: host } });
  try {
    const owner = await connectSignaling(s.wsUrl);
    const { room } = await owner.request('room.create', { name: 'retention' });
    const first = await weakChannelOf(s, room.id, 'first');
    const second = await weakChannelOf(s, room.id, 'second');
    // One member stays: the room (and everything it holds) lives on.
    const stays = await connectSignaling(s.wsUrl);
    await stays.request('room.join', { roomId: room.id, nickname: 'stays' });

    for (const { client } of [first, second]) {
      await client.request('room.leave', {});
      client.close();
    }
    const until = Date.now() + 5000;
    while (s.app.tutti.connections.count > 2 && Date.now() < until) await sleep(50);
    assert.equal(s.app.tutti.connections.count, 2, 'the two sockets closed on the server');

    assert.ok(await collected(second.channel), 'a later joiner is collected');
    assert.ok(await collected(first.channel), "the room's first joiner is collected too");
    assert.equal(s.app.tutti.rooms.get(room.id)?.size, 1);
    stays.close();
    owner.close();
  } finally {
    await s.stop();
  }
});

test('an open socket does not keep the HTTP request it was upgraded from', async () => {
  // About 5 KB a socket (request, headers, the routing response, Fastify's request/reply):
  // docs/benchmarks.md, memory per idle peer.
  const host = process.env.TUTTI_TEST_HOST ?? '127.0.0.1';
  const s = await startTestServer({ server: { host }, media: { listenIp: host } });
  const upgrades: WeakRef<IncomingMessage>[] = [];
  s.app.server.on('upgrade', (req: IncomingMessage) => upgrades.push(new WeakRef(req)));
  try {
    const owner = await connectSignaling(s.wsUrl);
    const { room } = await owner.request('room.create', { name: 'upgrades' });
    const member = await connectSignaling(s.wsUrl);
    await member.request('room.join', { roomId: room.id, nickname: 'stays' });
    assert.equal(upgrades.length, 2);
    for (const ref of upgrades) assert.ok(await collected(ref), 'the upgrade request is collected');
    // The sockets work on without it.
    const { message } = await member.request('chat.send', { text: 'still here' });
    assert.equal(message.text, 'still here');
    member.close();
    owner.close();
  } finally {
    await s.stop();
  }
});
