import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';

// The client build writes .br and .gz next to its files (client/vite.config.ts): the server
// sends those as they are, with Vary: Accept-Encoding; hashed assets are cached for a year
// (immutable), the page is revalidated on every load. The compressed files here hold other
// text than the plain one, so the body tells which file was sent.

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const PAGE = `<!doctype html><html><head><script type="module" src="/assets/index-abc.js"></script></head><body>${'x'.repeat(2000)}</body></html>`;

describe('static client files: precompressed, cache headers', () => {
  let s: TestServer;
  let dist: string;
  before(async () => {
    dist = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-dist-')), 'dist');
    mkdirSync(path.join(dist, 'assets'), { recursive: true });
    const asset = path.join(dist, 'assets', 'index-abc.js');
    writeFileSync(asset, 'console.log("plain")');
    writeFileSync(`${asset}.br`, brotliCompressSync('console.log("br")'));
    writeFileSync(`${asset}.gz`, gzipSync('console.log("gz")'));
    writeFileSync(path.join(dist, 'index.html'), PAGE);
    writeFileSync(path.join(dist, 'index.html.br'), brotliCompressSync(PAGE));
    writeFileSync(path.join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    s = await startTestServer({ server: { publicDir: dist } });
  });
  after(async () => {
    await s.stop();
    rmSync(path.dirname(dist), { recursive: true, force: true });
  });

  // fetch decodes br/gzip itself and keeps the content-encoding header.
  const get = (p: string, encoding: string, accept = '*/*') =>
    fetch(s.url + p, { headers: { accept, 'accept-encoding': encoding } });

  test('a hashed asset: the .br or .gz as it is, else the plain file; cached for a year', async () => {
    for (const [encoding, sent, body] of [
      ['br, gzip', 'br', 'console.log("br")'],
      ['gzip, deflate', 'gzip', 'console.log("gz")'],
      ['identity', null, 'console.log("plain")'],
    ] as const) {
      const res = await get('/assets/index-abc.js', encoding);
      assert.equal(res.status, 200, encoding);
      assert.equal(res.headers.get('content-encoding'), sent, encoding);
      assert.match(res.headers.get('content-type') ?? '', /javascript/, encoding);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.match(res.headers.get('vary') ?? '', /accept-encoding/i, encoding);
      // The security headers stay on assets.
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(await res.text(), body, encoding);
    }
  });

  test('the page (also as the SPA fallback) and other files are revalidated, not cached', async () => {
    for (const p of ['/', '/index.html', '/rooms/some-room']) {
      const res = await get(p, 'br', HTML);
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get('cache-control'), 'no-cache', p);
      assert.equal(res.headers.get('content-encoding'), 'br', p);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/, p);
      assert.ok(res.headers.get('content-security-policy'), `${p}: CSP kept`);
      assert.equal(await res.text(), PAGE, p);
    }
    const res = await get('/favicon.svg', 'br, gzip');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-encoding'), null);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    // A missing asset is still a 404 (no compressed sibling makes it exist).
    assert.equal((await get('/assets/missing.js', 'br')).status, 404);
  });
});
