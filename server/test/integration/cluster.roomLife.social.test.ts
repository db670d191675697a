import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorCodeOf } from '@tutti/protocol';
import { PublisherBot } from '../../../test/load/bots.ts';
import { loadOpusFixture, type FixtureTrack } from '../../../test/load/rtp.ts';
import { TuttiSignaling } from '../../../test/load/signaling.ts';
import {
  presenceKey,
  sealPresence,
  type PresenceMessage,
} from '../../src/federation/presenceEvents.ts';
import type { ClusterApp } from '../helpers/clusterApps.ts';
import {
  closers,
  createRoom,
  inProcess,
  join,
  onRedis,
  refused,
  until,
  useEnv,
  type Env,
} from './cluster.roomLife.helpers.ts';
import { sleep } from './bot.ts';

// Room life across two nodes besides games: reactions and raised hands, captions, and the
// bus's room-life events parsed with the protocol schemas. Once on the in-process hub, once
// on Redis + PostgreSQL.

const GOFORWARD = '/usr/share/pocketsphinx/test/data/goforward.raw';

function suite(variant: string, setup: () => Promise<Env>): void {
  describe(`cluster room life: hands, reactions, captions (${variant})`, () => {
    const got = useEnv(setup);
    let a: ClusterApp, b: ClusterApp;
    before(() => {
      [a, b] = got.nodes as [ClusterApp, ClusterApp];
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
  });
}

suite('in process', () => inProcess('life-social'));
suite('Redis + PostgreSQL', () => onRedis('life-social'));
