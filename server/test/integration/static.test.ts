import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';

// The client may be rebuilt while the server runs (new hashed asset names): the server
// serves whatever is in publicDir at request time, with the SPA fallback for page loads.

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

function page(asset: string): string {
  return `<!doctype html><html><head><script type="module" src="/assets/${asset}"></script></head></html>`;
}

describe('static client files (served at request time)', () => {
  let s: TestServer;
  let dist: string;
  before(async () => {
    // Starts with no client built at all.
    dist = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-dist-')), 'dist');
    s = await startTestServer({ server: { publicDir: dist } });
  });
  after(async () => {
    await s.stop();
    rmSync(path.dirname(dist), { recursive: true, force: true });
  });

  const get = (p: string, accept = '*/*') => fetch(s.url + p, { headers: { accept } });

  test('a client built after start-up, then rebuilt, is served', async () => {
    let res = await get('/', HTML);
    assert.equal(res.status, 404);
    assert.match(await res.text(), /not built/);

    // First build.
    mkdirSync(path.join(dist, 'assets'), { recursive: true });
    writeFileSync(path.join(dist, 'index.html'), page('index-aaa.js'));
    writeFileSync(path.join(dist, 'assets', 'index-aaa.js'), 'console.log("a")');
    res = await get('/', HTML);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await res.text(), /index-aaa\.js/);
    res = await get('/assets/index-aaa.js');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /javascript/);
    assert.equal(await res.text(), 'console.log("a")');

    // Rebuild: new hashed names; the old asset is gone.
    writeFileSync(path.join(dist, 'index.html'), page('index-bbb.js'));
    writeFileSync(path.join(dist, 'assets', 'index-bbb.js'), 'console.log("b")');
    rmSync(path.join(dist, 'assets', 'index-aaa.js'));
    res = await get('/', HTML);
    assert.match(await res.text(), /index-bbb\.js/);
    res = await get('/assets/index-bbb.js');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'console.log("b")');
    res = await get('/assets/index-aaa.js');
    assert.equal(res.status, 404);
  });

  test('SPA fallback for page loads only; /api and missing files stay 404', async () => {
    // Deep link of the SPA → index.html.
    let res = await get('/rooms/some-room', HTML);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<!doctype html>/);
    res = await get('/index.html', HTML);
    assert.equal(res.status, 200);

    // A missing asset is a 404, never the page (also when the request accepts HTML).
    for (const accept of ['*/*', HTML]) {
      res = await get('/assets/x.js', accept);
      assert.equal(res.status, 404, `missing asset with accept ${accept}`);
      assert.doesNotMatch(await res.text(), /<!doctype html>/);
    }
    // A non-HTML GET of an unknown path is a JSON 404.
    res = await get('/nope');
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: string }).error, 'NOT_FOUND');

    // /api: routes work, unknown ones are JSON 404s even for HTML requests.
    res = await get('/api/rooms');
    assert.equal(res.status, 200);
    for (const p of ['/api/nope', '/api', '/api/rooms/x/y/z']) {
      res = await get(p, HTML);
      assert.equal(res.status, 404, p);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      assert.equal(((await res.json()) as { error: string }).error, 'NOT_FOUND');
    }
    // /ws without an upgrade is not the page either.
    res = await get('/ws', HTML);
    assert.notEqual(res.status, 200);
    assert.doesNotMatch(await res.text(), /<!doctype html>/);
    // Other methods: JSON 404.
    res = await fetch(s.url + '/somewhere', { method: 'POST', headers: { accept: HTML } });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: string }).error, 'NOT_FOUND');
  });
});
