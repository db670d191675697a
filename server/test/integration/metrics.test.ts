import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
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
