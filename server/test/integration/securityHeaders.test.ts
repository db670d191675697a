import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChatMessage } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { createRoom, joinRoom, type Member } from '../helpers/chatClients.ts';

// Issue #10 item 9: security headers on the client and the API, loose enough for what the
// client needs (its bundle, workers, blob previews, the same-origin WebSocket).

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** The CSP as directive → sources. */
function parseCsp(header: string | null): Map<string, string[]> {
  assert.ok(header, 'content-security-policy is set');
  const out = new Map<string, string[]>();
  for (const part of header.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name, values);
  }
  return out;
}

function assertCommonHeaders(res: Response, where: string): Map<string, string[]> {
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', where);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', where);
  assert.equal(res.headers.get('strict-transport-security'), null, `${where}: no HSTS`);
  return parseCsp(res.headers.get('content-security-policy'));
}

describe('security headers', () => {
  let s: TestServer;
  let dist: string;
  const members: Member[] = [];
  before(async () => {
    dist = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-dist-')), 'dist');
    mkdirSync(path.join(dist, 'assets'), { recursive: true });
    writeFileSync(
      path.join(dist, 'index.html'),
      '<!doctype html><script type="module" src="/assets/index-x.js"></script>',
    );
    writeFileSync(path.join(dist, 'assets', 'index-x.js'), 'console.log(1)');
    s = await startTestServer({ server: { publicDir: dist } });
  });
  after(async () => {
    for (const m of members) m.client.close();
    await s.stop();
    rmSync(path.dirname(dist), { recursive: true, force: true });
  });

  test('the page: CSP forbids framing and foreign code, allows what the client uses', async () => {
    const res = await fetch(`${s.url}/`, { headers: { accept: HTML } });
    assert.equal(res.status, 200);
    const csp = assertCommonHeaders(res, '/');
    const host = new URL(s.url).host;
    assert.deepEqual(csp.get('frame-ancestors'), ["'none'"]);
    assert.deepEqual(csp.get('default-src'), ["'self'"]);
    assert.deepEqual(csp.get('script-src'), ["'self'"], 'no inline or foreign scripts');
    assert.deepEqual(csp.get('object-src'), ["'none'"]);
    assert.deepEqual(csp.get('connect-src'), ["'self'", `ws://${host}`, `wss://${host}`]);
    assert.ok(csp.get('img-src')?.includes('blob:'), 'object-URL image previews');
    assert.ok(csp.get('worker-src')?.includes("'self'"));
    assert.ok(csp.get('media-src')?.includes('blob:'));
    assert.equal(csp.has('upgrade-insecure-requests'), false, 'plain HTTP keeps working');
    assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');

    // Deep links (SPA fallback) and assets carry them too.
    const deep = await fetch(`${s.url}/rooms/abc`, { headers: { accept: HTML } });
    assertCommonHeaders(deep, 'SPA fallback');
    assertCommonHeaders(await fetch(`${s.url}/assets/index-x.js`), 'asset');
  });

  test('the API: same headers on answers and errors', async () => {
    for (const p of ['/api/health', '/api/rooms', '/api/nope', '/metrics']) {
      const res = await fetch(s.url + p);
      await res.arrayBuffer();
      const csp = assertCommonHeaders(res, p);
      assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], p);
    }
    const bad = await fetch(`${s.url}/api/rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": 5}',
    });
    assert.equal(bad.status, 400);
    assertCommonHeaders(bad, 'POST /api/rooms 400');
  });

  test('a hostile Host header is not echoed into the policy', async () => {
    const { request } = await import('node:http');
    const port = new URL(s.url).port;
    const csp = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/health',
          headers: { host: "evil.example; script-src 'unsafe-inline'" },
        },
        (res) => {
          res.resume();
          resolve(String(res.headers['content-security-policy']));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.doesNotMatch(csp, /evil/);
    assert.deepEqual(parseCsp(csp).get('script-src'), ["'self'"]);
    assert.deepEqual(parseCsp(csp).get('connect-src'), ["'self'"]);
  });

  test('file downloads keep their own, stricter policy', async () => {
    const { roomId } = await createRoom(s, 'Headers');
    const ann = await joinRoom(s, roomId, 'ann');
    members.push(ann);
    const { token } = await ann.client.request('files.uploadToken', {});
    const pngBytes = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.alloc(64, 1),
    ]);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(pngBytes)]), 'p.png');
    const up = await fetch(`${s.url}/api/files?token=${encodeURIComponent(token)}`, {
      method: 'POST',
      body: form,
    });
    assert.equal(up.status, 201);
    const { message } = (await up.json()) as { message: ChatMessage };
    const res = await fetch(s.url + message.file!.url);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const csp = parseCsp(res.headers.get('content-security-policy'));
    assert.deepEqual(csp.get('default-src'), ["'none'"]);
    assert.ok(csp.has('sandbox'));
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });
});
