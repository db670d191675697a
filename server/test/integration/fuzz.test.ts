import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connectSignaling } from '../../../test/helpers/signalingClient.ts';
import { startTestServer } from '../../../test/helpers/startServer.ts';
import { requestSchemas } from '@tutti/protocol/schemas';
import { sleep } from './bot.ts';

// 1,000 random/malformed frames from one socket while a second client keeps getting
// correct answers; the server must stay up and keep serving.

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

const methods = Object.keys(requestSchemas);

function garbageValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * 12);
  switch (k) {
    case 0:
      return null;
    case 1:
      return Math.floor(r() * 1e9) * (r() < 0.5 ? -1 : 1);
    case 2:
      return r() < 0.5;
    case 3:
      return 'x'.repeat(Math.floor(r() * 200));
    case 4:
      return '\u0000\uffff\ud800💥'.repeat(Math.floor(r() * 10));
    case 5:
      return depth > 3 ? {} : { a: garbageValue(r, depth + 1), __proto__: { polluted: true } };
    case 6:
      return depth > 3 ? [] : [garbageValue(r, depth + 1), garbageValue(r, depth + 1)];
    case 7:
      return 1e308 * 10; // Infinity → null in JSON
    case 8:
      return randomBytes(16).toString('hex');
    case 9:
      return { roomId: 'x'.repeat(70), nickname: 5, password: [] };
    case 10:
      return {
        transportId: {},
        dtlsParameters: 'no',
        rtpParameters: { codecs: [{}] },
        kind: 'video',
        source: 'mic',
      };
    default:
      return Math.random();
  }
}

function frame(r: () => number, i: number): string | Uint8Array<ArrayBuffer> {
  const method = r() < 0.7 ? methods[Math.floor(r() * methods.length)]! : `bogus.${i}`;
  switch (i % 14) {
    case 0:
      return '{not json';
    case 1:
      return JSON.stringify(garbageValue(r));
    case 2:
      return JSON.stringify({ request: true, id: i, method, data: garbageValue(r) });
    case 3:
      return JSON.stringify({ request: true, id: 'abc', method });
    case 4:
      return JSON.stringify({ request: true, id: i, method: 12 });
    case 5:
      return JSON.stringify({ response: true, id: i, ok: r() < 0.5, data: garbageValue(r) });
    case 6:
      return JSON.stringify({ notification: true, method, data: garbageValue(r) });
    case 7:
      return JSON.stringify({ request: true, id: i, method, data: 'x'.repeat(200_000) });
    case 8:
      return new Uint8Array(randomBytes(64));
    case 9:
      return JSON.stringify({ request: true, id: Number.MAX_SAFE_INTEGER + 10, method });
    case 10:
      return JSON.stringify({
        request: true,
        id: i,
        method: 'room.join',
        data: { roomId: 'nope', nickname: 'f'.repeat(40) },
      });
    case 11:
      return JSON.stringify({ request: true, id: i, method: 'constructor', data: {} });
    case 12:
      return JSON.stringify({ request: true, id: i, method: '__proto__', data: { toString: 1 } });
    default:
      return JSON.stringify({
        request: true,
        id: i,
        method: 'media.produce',
        data: garbageValue(r),
      });
  }
}

test('1,000 malformed frames on one socket: others keep being served, process alive', async () => {
  const s = await startTestServer();
  try {
    const good = await connectSignaling(s.wsUrl);
    const { room } = await good.request('room.create', { name: 'Fuzz target' });
    await good.request('room.join', { roomId: room.id, nickname: 'good' });

    const ws = new WebSocket(s.wsUrl, 'protoo');
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error('fuzz socket failed'));
    });
    let responses = 0;
    let errorResponses = 0;
    ws.onmessage = (ev) => {
      const m = JSON.parse(String(ev.data)) as {
        response?: boolean;
        ok?: boolean;
        errorReason?: string;
      };
      if (m.response) {
        responses++;
        if (!m.ok) {
          errorResponses++;
          assert.match(m.errorReason ?? '', /^[A-Z_]+: /);
          assert.doesNotMatch(m.errorReason ?? '', /^INTERNAL/, `internal error: ${m.errorReason}`);
        }
      }
    };
    let fuzzClosed = false;
    ws.onclose = () => (fuzzClosed = true);

    const r = rng(20261127);
    let answered = 0;
    for (let i = 0; i < 1000; i++) {
      ws.send(frame(r, i));
      if (i % 50 === 0) {
        // Meanwhile the good client gets correct answers.
        const list = await good.request('lobby.subscribe', {});
        assert.ok(list.rooms.some((x) => x.id === room.id));
        const caps = await good.request('media.getRouterRtpCapabilities', {});
        assert.ok(caps.rtpCapabilities.codecs!.length > 0);
        answered++;
      }
    }
    await sleep(500);
    assert.equal(answered, 20);
    assert.equal(fuzzClosed, false, 'the fuzzing socket itself stays open (frames < 1 MiB)');
    assert.ok(responses > 100, `got ${responses} responses`);
    assert.ok(errorResponses > 100);

    // Same socket still works as a proper protoo client.
    const reply = new Promise<{ ok: boolean; data: { rooms: unknown[] } }>((resolve) => {
      ws.onmessage = (ev) => {
        const m = JSON.parse(String(ev.data)) as {
          id?: number;
          ok: boolean;
          data: { rooms: unknown[] };
        };
        if (m.id === 999_999) resolve(m);
      };
    });
    ws.send(JSON.stringify({ request: true, id: 999_999, method: 'lobby.subscribe', data: {} }));
    assert.equal((await reply).ok, true);

    // An oversized frame closes only that socket.
    ws.send('x'.repeat(2 * 1024 * 1024));
    await sleep(300);
    assert.equal(fuzzClosed, true);
    const health = await fetch(`${s.url}/api/health`);
    assert.equal(health.status, 200);
    const again = await good.request('lobby.subscribe', {});
    assert.ok(again.rooms.length >= 1);
    good.close();
  } finally {
    await s.stop();
  }
});
