import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@tutti/config';
import {
  listenInfosFromConfig,
  mediaCodecs,
  resolveWorkerBin,
  webRtcTransportOptions,
} from '@tutti/media-workers';
import type { WorkerPool } from '@tutti/media-workers';
import type { Peer as ProtooPeer } from 'protoo-server';
import { TuttiError } from '@tutti/protocol';
import { ProtooChannel as Peer } from '../../src/transport/ProtooChannel.ts';
import { Room } from '../../src/rooms/Room.ts';
import { createDispatcher } from '../../src/transport/dispatch.ts';
import type { HandlerTable } from '../../src/rooms/ports.ts';
import { silentLogger, type Logger } from '../../src/kernel/log.ts';

const media = (o: Record<string, unknown> = {}) => loadConfig({ media: o }, {}).media;

test('listenInfos: UDP first then TCP, port range, announced address', () => {
  const infos = listenInfosFromConfig(
    media({
      listenIp: '0.0.0.0',
      announcedAddress: '203.0.113.7',
      rtcMinPort: 41000,
      rtcMaxPort: 41100,
    }),
  );
  assert.deepEqual(infos, [
    {
      protocol: 'udp',
      ip: '0.0.0.0',
      announcedAddress: '203.0.113.7',
      portRange: { min: 41000, max: 41100 },
    },
    {
      protocol: 'tcp',
      ip: '0.0.0.0',
      announcedAddress: '203.0.113.7',
      portRange: { min: 41000, max: 41100 },
    },
  ]);
});

test('listenInfos: defaults are loopback without announced address; toggles and forceTcp', () => {
  const def = listenInfosFromConfig(media());
  assert.equal(def.length, 2);
  assert.ok(def.every((l) => l.ip === '127.0.0.1' && l.announcedAddress === undefined));
  assert.deepEqual(
    listenInfosFromConfig(media({ enableTcp: false })).map((l) => l.protocol),
    ['udp'],
  );
  assert.deepEqual(
    listenInfosFromConfig(media({ enableUdp: false })).map((l) => l.protocol),
    ['tcp'],
  );
  assert.deepEqual(
    listenInfosFromConfig(media(), { forceTcp: true }).map((l) => l.protocol),
    ['tcp'],
  );
  assert.throws(() => listenInfosFromConfig(media({ enableUdp: false, enableTcp: false })));
  const opts = webRtcTransportOptions(media({ initialAvailableOutgoingBitrate: 600000 }));
  assert.equal(opts.preferUdp, true);
  assert.equal(opts.enableSctp, false);
  assert.equal(opts.initialAvailableOutgoingBitrate, 600000);
  assert.equal(webRtcTransportOptions(media(), { forceTcp: true }).preferUdp, false);
});

test('router codecs: opus stereo, VP8, VP9, H264 42e01f and 4d0032 with packetization-mode 1', () => {
  assert.ok(
    mediaCodecs.some(
      (c) => c.mimeType === 'audio/opus' && c.clockRate === 48000 && c.channels === 2,
    ),
  );
  assert.ok(mediaCodecs.some((c) => c.mimeType === 'video/VP8'));
  assert.ok(mediaCodecs.some((c) => c.mimeType === 'video/VP9'));
  for (const plid of ['42e01f', '4d0032']) {
    assert.ok(
      mediaCodecs.some(
        (c) =>
          c.mimeType.toLowerCase() === 'video/h264' &&
          c.parameters?.['profile-level-id'] === plid &&
          c.parameters?.['packetization-mode'] === 1,
      ),
    );
  }
});

test('worker binary: config beats MEDIASOUP_WORKER_BIN beats the repo default', () => {
  assert.equal(resolveWorkerBin('/opt/w', { MEDIASOUP_WORKER_BIN: '/env/w' }), '/opt/w');
  assert.equal(resolveWorkerBin(undefined, { MEDIASOUP_WORKER_BIN: '/env/w' }), '/env/w');
  assert.match(resolveWorkerBin(undefined, {}), /media-workers\/bin\/mediasoup-worker$/);
});

function fakePeer(id: string): Peer {
  const sent: unknown[] = [];
  const signal = {
    id,
    closed: false,
    notify: (method: string, data: unknown) => {
      sent.push({ method, data });
      return Promise.resolve();
    },
    request: () => Promise.resolve({}),
    close() {},
  } as unknown as ProtooPeer;
  return new Peer(signal, '127.0.0.1');
}

test('dispatcher: unknown method, validation, TuttiError and internal errors map to codes', async () => {
  const errors: unknown[] = [];
  const table: HandlerTable = {
    'room.create': (_ctx, data) => {
      if (data.name === 'boom') throw new Error('secret detail');
      if (data.name === 'full') throw new TuttiError('ROOM_FULL', 'no room');
      return {
        room: {
          id: 'r',
          name: data.name,
          peers: 0,
          capacity: null,
          locked: false,
          e2ee: false,
          createdAt: 0,
        },
        ownerSecret: 's',
      };
    },
  };
  const log: Logger = { ...silentLogger, error: (o) => void errors.push(o), child: () => log };
  const dispatch = createDispatcher([table], log);
  const ctx = { peer: fakePeer('p') };
  assert.deepEqual(await dispatch(ctx, 'nope', {}), {
    ok: false,
    status: 405,
    reason: 'UNKNOWN_METHOD: unknown method "nope"',
  });
  assert.equal(
    (await dispatch(ctx, 'room.join', { roomId: 'x', nickname: 'n' })).ok,
    false,
    'known but unhandled',
  );
  const bad = await dispatch(ctx, 'room.create', { name: 7 });
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.reason : '', /^INVALID_REQUEST: name: /);
  const extra = await dispatch(ctx, 'room.create', { name: 'a', evil: true });
  assert.match(!extra.ok ? extra.reason : '', /^INVALID_REQUEST/);
  const ok = await dispatch(ctx, 'room.create', { name: '  trimmed  ' });
  assert.equal(ok.ok && (ok.data as { room: { name: string } }).room.name, 'trimmed');
  assert.deepEqual(await dispatch(ctx, 'room.create', { name: 'full' }), {
    ok: false,
    status: 409,
    reason: 'ROOM_FULL: no room',
  });
  assert.deepEqual(await dispatch(ctx, 'room.create', { name: 'boom' }), {
    ok: false,
    status: 500,
    reason: 'INTERNAL: internal error',
  });
  assert.equal(errors.length, 1);
  assert.throws(() => createDispatcher([table, table], silentLogger), /two handlers/);
});

test('room: capacity is enforced on admit and nicknames are de-duplicated', () => {
  const config = loadConfig({}, {});
  const room = new Room(
    {
      id: 'r1',
      name: 'R',
      nameKey: 'r',
      passwordHash: null,
      capacity: 2,
      ownerSecretHash: 'x',
      createdAt: 0,
      emptySince: 0,
      ownerAccountId: null,
      settings: { waitingRoom: false, moderatorsUnmute: false, signedInOnly: false },
      e2ee: false,
    },
    { config, pool: {} as WorkerPool, log: silentLogger },
  );
  const a = room.admit(fakePeer('a'), 'Sam');
  const b = room.admit(fakePeer('b'), 'sam');
  assert.equal(a.nickname, 'Sam');
  assert.match(b.nickname, /^sam\d+$/);
  assert.equal(room.summary().peers, 2);
  assert.throws(
    () => room.admit(fakePeer('c'), 'Cy'),
    (e) => e instanceof TuttiError && e.code === 'ROOM_FULL',
  );
  assert.equal(room.remove('a'), true);
  assert.equal(room.admit(fakePeer('c'), 'Cy').nickname, 'Cy');
  assert.deepEqual(
    room.peers().map((p) => p.mic),
    ['none', 'none'],
  );
});
