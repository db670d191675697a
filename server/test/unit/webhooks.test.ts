import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/kernel/log.ts';
import { WebhookSender, type WebhookSettings } from '../../src/webhooks/sender.ts';
import { signatureHeader, verifyWebhook } from '../../src/webhooks/signature.ts';
import { startWebhookReceiver } from '../helpers/webhookReceiver.ts';

const SECRET = 'a webhook secret for the tests';

const settings = (urls: string[], over: Partial<WebhookSettings> = {}): WebhookSettings => ({
  urls,
  secret: SECRET,
  timeoutMs: 2000,
  maxAttempts: 4,
  backoffMs: 50,
  queueSize: 100,
  ...over,
});

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('signature: HMAC-SHA256 over "<t>.<body>"; a changed body, secret or an old timestamp fails', () => {
  const body = JSON.stringify({ event: 'room_started', room: { id: 'r' } });
  const header = signatureHeader(SECRET, body);
  assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.equal(verifyWebhook(SECRET, header, body), true);
  assert.equal(verifyWebhook(SECRET, header, body.replace('"r"', '"x"')), false);
  assert.equal(verifyWebhook('another secret entirely', header, body), false);
  assert.equal(verifyWebhook(SECRET, undefined, body), false);
  assert.equal(verifyWebhook(SECRET, header, body, { now: Date.now() + 600_000 }), false);
  const old = signatureHeader(SECRET, body, Date.now() - 3_600_000);
  assert.equal(verifyWebhook(SECRET, old, body), false);
});

test('webhooks reach a real receiver in order, signed, with event and delivery headers', async () => {
  const receiver = await startWebhookReceiver();
  const sender = new WebhookSender(settings([receiver.url]), silentLogger);
  try {
    sender.send('room_started', { room: { id: 'r1', name: 'One' } });
    sender.send('participant_joined', {
      room: { id: 'r1', name: 'One' },
      participant: { id: 'p' },
    });
    await until(() => receiver.received.length === 2, 5000, 'two deliveries');
    const [a, b] = receiver.received.map((r) => ({
      ...r,
      json: JSON.parse(r.body) as Record<string, unknown>,
    }));
    assert.equal(a!.json.event, 'room_started');
    assert.equal(b!.json.event, 'participant_joined');
    for (const r of [a!, b!]) {
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers['tutti-event'], r.json.event);
      assert.equal(r.headers['tutti-delivery'], r.json.id);
      assert.equal(verifyWebhook(SECRET, String(r.headers['tutti-signature']), r.body), true);
    }
  } finally {
    await sender.close(0);
    await receiver.close();
  }
});

test('a receiver failing twice gets the same delivery a third time, after growing delays', async () => {
  const receiver = await startWebhookReceiver((n) => (n < 2 ? 503 : 200));
  const sender = new WebhookSender(settings([receiver.url], { backoffMs: 100 }), silentLogger);
  try {
    sender.send('room_finished', { room: { id: 'r2', name: 'Two' } });
    await until(() => receiver.received.length === 3, 5000, 'three attempts');
    const ids = receiver.received.map((r) => r.headers['tutti-delivery']);
    assert.equal(new Set(ids).size, 1, 'one delivery id across the retries');
    const [t0, t1, t2] = receiver.received.map((r) => r.at) as [number, number, number];
    assert.ok(t1 - t0 >= 70, `first retry after ${t1 - t0} ms (≥ 75)`);
    assert.ok(t2 - t1 >= 140, `second retry after ${t2 - t1} ms (≥ 150: doubled)`);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(receiver.received.length, 3, 'no attempt after the success');
    assert.equal(sender.pending, 0);
  } finally {
    await sender.close(0);
    await receiver.close();
  }
});

test('a hanging receiver costs the caller nothing: send() returns at once, the POST times out', async () => {
  const hanging = await startWebhookReceiver(() => 'hang');
  const healthy = await startWebhookReceiver();
  const sender = new WebhookSender(
    settings([hanging.url, healthy.url], {
      timeoutMs: 300,
      maxAttempts: 2,
      backoffMs: 50,
      queueSize: 5,
    }),
    silentLogger,
  );
  try {
    const started = performance.now();
    for (let i = 0; i < 50; i++) sender.send('participant_joined', { n: i });
    const took = performance.now() - started;
    assert.ok(took < 50, `50 sends took ${took.toFixed(1)} ms`);
    // The healthy receiver is not held up by the hanging one (separate queues)…
    await until(() => healthy.received.length >= 5, 3000, 'healthy deliveries');
    // …the hanging one's queue is bounded (oldest dropped)…
    assert.ok(sender.dropped >= 40, `dropped ${sender.dropped}`);
    // …and each of its POSTs is cut at timeoutMs, then retried once.
    await until(() => hanging.received.length >= 2, 3000, 'a retry after the timeout');
    const gap = hanging.received[1]!.at - hanging.received[0]!.at;
    assert.ok(gap >= 300, `retry ${gap} ms after the first POST (timeout 300 + backoff)`);
  } finally {
    const closing = performance.now();
    await sender.close(0);
    assert.ok(performance.now() - closing < 1000, 'close() does not wait for the hanging POST');
    await hanging.close();
    await healthy.close();
  }
});

test('a dead receiver (connection refused) is given up after maxAttempts', async () => {
  const gone = await startWebhookReceiver();
  const url = gone.url;
  await gone.close();
  const sender = new WebhookSender(
    settings([url], { maxAttempts: 3, backoffMs: 20 }),
    silentLogger,
  );
  sender.send('room_started', { room: { id: 'r' } });
  await until(() => sender.pending === 0, 3000, 'given up');
  await sender.close(0);
});
