import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connectSignaling } from '../../../test/helpers/signalingClient.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s.stop();
});

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('GET /metrics reports workers, rooms, people and sockets in Prometheus text', async () => {
  const owner = await connectSignaling(s.wsUrl);
  const member = await connectSignaling(s.wsUrl);
  try {
    const { room } = await owner.request('room.create', { name: 'metrics room' });
    await member.request('room.join', { roomId: room.id, nickname: 'Mia' });
    await owner.request('lobby.subscribe', {});

    const res = await fetch(`${s.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /# TYPE tutti_workers gauge/);
    assert.equal(sample(text, 'tutti_workers{state="alive"}'), 1);
    assert.equal(sample(text, 'tutti_rooms'), 1);
    assert.equal(sample(text, 'tutti_room_peers'), 1);
    assert.equal(sample(text, 'tutti_lobby_subscribers'), 1);
    assert.equal(sample(text, 'tutti_signaling_connections'), 2);
    assert.ok((sample(text, 'tutti_process_resident_bytes') ?? 0) > 1e6);
  } finally {
    owner.close();
    member.close();
  }
});

/** GET with a chosen source address (127.0.0.2 is loopback too, but not in a /32 for .1). */
function get(
  url: string,
  opts: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress: opts.localAddress, headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('probes say little; the worker pids are in /api/health/detail (loopback by default)', async () => {
  assert.deepEqual(await (await fetch(`${s.url}/api/health`)).json(), { status: 'ok' });
  const live = await fetch(`${s.url}/api/live`);
  assert.equal(live.status, 200);
  assert.deepEqual(await live.json(), { status: 'live' });
  const ready = await fetch(`${s.url}/api/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: 'ready' });
  const detail = (await (await fetch(`${s.url}/api/health/detail`)).json()) as {
    workers: { pid: number }[];
  };
  assert.ok(detail.workers[0]!.pid > 0);
});

test('metrics.allowIps: other addresses get 403 on /metrics and /api/health/detail', async () => {
  const own = await startTestServer({ metrics: { allowIps: '127.0.0.2/32' } });
  try {
    for (const p of ['/metrics', '/api/health/detail']) {
      const refused = await get(own.url + p);
      assert.equal(refused.status, 403, p);
      assert.equal((JSON.parse(refused.body) as { error: string }).error, 'FORBIDDEN');
      assert.doesNotMatch(refused.body, /pid/);
      assert.equal((await get(own.url + p, { localAddress: '127.0.0.2' })).status, 200, p);
    }
    // The probes stay open to everyone.
    assert.equal((await get(`${own.url}/api/ready`)).status, 200);
    assert.equal((await get(`${own.url}/api/health`)).status, 200);
  } finally {
    await own.stop();
  }
});

test('metrics.token: a Bearer token lets a scraper in from any address', async () => {
  const token = 'scrape-token-0123456789';
  const own = await startTestServer({ metrics: { token, allowIps: '' } });
  try {
    const url = `${own.url}/metrics`;
    assert.equal((await get(url)).status, 403, 'loopback is no longer enough');
    assert.equal((await get(url, { headers: { authorization: 'Bearer wrong' } })).status, 403);
    assert.equal((await get(url, { headers: { authorization: token } })).status, 403);
    const ok = await get(url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /# TYPE tutti_workers gauge/);
  } finally {
    await own.stop();
  }
});
