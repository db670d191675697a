import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';

// Issue 10, defect 3: behind a proxy the per-address limits must see the client, not the
// proxy. server.trustProxy names the proxies whose X-Forwarded-For is believed; the test
// connects from 127.0.0.1, so 'loopback' plays the Ingress. Room creation (one per minute
// here) is the per-address limit easiest to reach over HTTP; passwords use the same req.ip.

const onePerMinute = { signaling: { roomCreatesPerMinute: 1 } };

function create(s: TestServer, name: string, forwardedFor?: string): Promise<number> {
  return fetch(`${s.url}/api/rooms`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
    },
    body: JSON.stringify({ name }),
  }).then((r) => r.status);
}

test('trustProxy: loopback → each forwarded client has its own limits; forged hops are ignored', async () => {
  const s = await startTestServer({ ...onePerMinute, server: { trustProxy: 'loopback' } });
  try {
    assert.equal(await create(s, 'a1', '203.0.113.1'), 201);
    assert.equal(await create(s, 'a2', '203.0.113.1'), 429);
    assert.equal(await create(s, 'b1', '203.0.113.2'), 201, 'another client behind the proxy');
    // The client forged a first hop; the proxy appended the address it saw: that one counts.
    assert.equal(await create(s, 'a3', '198.51.100.7, 203.0.113.1'), 429);
  } finally {
    await s.stop();
  }
});

test('trustProxy off (default): X-Forwarded-For is ignored, the socket address counts', async () => {
  const s = await startTestServer(onePerMinute);
  try {
    assert.equal(await create(s, 'x1', '203.0.113.1'), 201);
    assert.equal(await create(s, 'x2', '203.0.113.2'), 429);
  } finally {
    await s.stop();
  }
});
