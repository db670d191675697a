/**
 * A resume through another node, caught in its gap (issue 9, docs/reconnect.md): node A has
 * let the member go, node B has not seated it yet. Two nodes in this process on a cluster
 * hub that holds A's answer to `session.handover` back (GatedHub) while the others chat, so
 * the gap is as long as the test wants, whatever the load. The message sent in it reaches
 * the member once, live, through B; what was sent while it was away (kept on A) and after
 * (live on B) once too; a gap of 250 messages (more than a page) all of it, once, in order.
 * Its leave through B is reported by B's webhooks with its nickname
 * and join token identity, and nothing about its move is.
 *
 * TUTTI_TEST_GAP_HOSTS overrides the addresses (node A, node B, the webhook receiver).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { mintJoinToken } from '../../src/admin/joinToken.ts';
import { ApiKeys } from '../../src/admin/keys.ts';
import { LocalChatBus } from '../../src/chat/LocalChatBus.ts';
import { LocalClusterHub } from '../../src/cluster/index.ts';
import { chatView } from '../helpers/clusterApps.ts';
import { sharedDataDir, startNode, type InProcessNode } from '../helpers/clusterNodes.ts';
import { until as waitUntil } from '../../../test/helpers/waits.ts';
import { connectRaw as connectSocket, type RawClient } from '../helpers/rawSignaling.ts';

const connectRaw = (wsUrl: string, open: RawClient[]): Promise<RawClient> =>
  connectSocket(wsUrl, { requestTimeoutMs: 15_000, open });
/** Polls `check` every 25 ms; throws after `ms`. */
const until = (check: () => boolean, ms: number, what: string): Promise<void> =>
  waitUntil(what, check, ms, 25);
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver.ts';

const [HOST_A, HOST_B, HOST_HOOKS] = (
  process.env.TUTTI_TEST_GAP_HOSTS ?? '127.0.13.1,127.0.13.2,127.0.13.3'
).split(',') as [string, string, string];
const SECRET = 'handover-gap-secret-0123456789';

/** A hub that can hold the answers to `session.handover` until the test lets them go. */
class GatedHub extends LocalClusterHub {
  readonly #asked = new Set<string>();
  #gate: Promise<void> | undefined;
  /** Answers held so far (the issuing node has let its member go when this counts up). */
  held = 0;

  hold(): () => void {
    let open = () => {};
    this.#gate = new Promise<void>((resolve) => (open = resolve));
    return () => {
      this.#gate = undefined;
      open();
    };
  }

  override inject(nodeId: string, raw: string): number {
    const env = envelopeOf(raw);
    if (env?.kind === 'req' && env.method === 'session.handover') this.#asked.add(env.id);
    else if (env && env.kind !== 'req' && this.#asked.delete(env.id) && this.#gate) {
      this.held++;
      void this.#gate.then(() => super.inject(nodeId, raw));
      return 1;
    }
    return super.inject(nodeId, raw);
  }
}

/** The signed envelope's body, read only (the hub never alters it). */
function envelopeOf(raw: string): { kind: string; id: string; method?: string } | undefined {
  try {
    return JSON.parse((JSON.parse(raw) as { m: string }).m) as { kind: string; id: string };
  } catch {
    return undefined;
  }
}

interface Hook {
  event: string;
  room: { id: string };
  participant?: { id: string; nickname: string; identity?: string };
}

describe('a resume through another node, in its gap (in process, one hub)', () => {
  const hub = new GatedHub();
  const data = sharedDataDir();
  const bus = new LocalChatBus();
  const open: RawClient[] = [];
  let a: InProcessNode, b: InProcessNode;
  let hooks: WebhookReceiver;

  before(async () => {
    hooks = await startWebhookReceiver(() => 204, HOST_HOOKS);
    const overrides = (nodeId: string) => ({
      files: { secret: SECRET },
      webhooks: { urls: [hooks.url], secret: SECRET, backoffMs: 50 },
      // A long gap is 250 messages from two members within seconds.
      chat: { ratePerSecond: 1000, burst: 1000 },
      signaling: { requestsPerSecond: 1000, requestBurst: 1000 },
      // Patient on a loaded machine: the held answer must not time out, nor a node seem gone.
      cluster: { nodeId, heartbeatMs: 300, nodeTimeoutMs: 6000, rpcTimeoutMs: 10_000 },
    });
    const spec = (nodeId: string, host: string) => ({
      nodeId,
      host,
      dataDir: data.dir,
      hub,
      chatBus: chatView(bus),
      overrides: overrides(nodeId),
    });
    a = await startNode(spec('gap-a', HOST_A));
    b = await startNode(spec('gap-b', HOST_B));
  });

  after(async () => {
    for (const c of open) c.ws.terminate();
    await b?.stop();
    await a?.stop();
    await hooks?.close();
    data.remove();
  });

  const inRoom = (node: InProcessNode, roomId: string, id: string) =>
    node.app.tutti.rooms.get(roomId)?.hasMember(id) ?? false;
  const hooksOf = (roomId: string): Hook[] =>
    hooks.received.map((r) => JSON.parse(r.body) as Hook).filter((h) => h.room.id === roomId);

  /** Ann on A, Bea on B, alice on A with a join token (her identity is in her webhooks). */
  async function room(name: string) {
    const owner = await connectRaw(a.wsUrl, open);
    const roomId = (await owner.request('room.create', { name })).room.id;
    owner.ws.close(1000);
    const ann = await connectRaw(a.wsUrl, open);
    await ann.request('room.join', { roomId, nickname: 'Ann' });
    const bea = await connectRaw(b.wsUrl, open);
    await bea.request('room.join', { roomId, nickname: 'Bea' });
    const key = await new ApiKeys(a.app.tutti.stores.auth).create(name);
    const token = mintJoinToken(key, {
      identity: 'crm-alice',
      name: 'alice',
      room: roomId,
      role: 'participant',
      ttlSeconds: 120,
    });
    const alice = await connectRaw(a.wsUrl, open);
    const joined = await alice.request('room.join', { roomId, nickname: 'x', token });
    assert.equal(joined.self.nickname, 'alice');
    const id = joined.self.id;
    await until(
      () => bea.seen('room.peerJoined').some((n) => n.peer.id === id),
      10_000,
      'Bea sees alice',
    );
    // The drop: no close frame.
    alice.ws.terminate();
    await alice.closed;
    await sleep(300);
    return { roomId, ann, bea, id, resumeToken: joined.resumeToken! };
  }

  test('a message sent in the gap arrives once, live, with the kept and later ones', async () => {
    const { roomId, ann, bea, id, resumeToken } = await room('Gap');
    const kept = (await ann.request('chat.send', { text: 'while away' })).message;

    // Back through B, A's answer held: A has let her go, B has not seated her.
    const release = hub.hold();
    const again = await connectRaw(b.wsUrl, open);
    const resuming = again.request('session.resume', { token: resumeToken });
    await until(() => hub.held === 1, 15_000, 'A answered the handover');
    assert.equal(inRoom(a, roomId, id), false, 'A let her go');
    assert.equal(inRoom(b, roomId, id), false, 'B has not seated her yet');
    const gapB = (await bea.request('chat.send', { text: 'in the gap, via B' })).message;
    const gapA = (await ann.request('chat.send', { text: 'in the gap, via A' })).message;
    const gap = [gapA.id, gapB.id];
    for (const w of [ann, bea]) {
      await until(
        () => w.seen('chat.message').filter((n) => gap.includes(n.message.id)).length === 2,
        10_000,
        'the gap messages delivered to the others',
      );
    }
    release();
    const resumed = await resuming;
    assert.equal(resumed.self.id, id);
    assert.equal(resumed.media, 'rebuild');
    const live = (await ann.request('chat.send', { text: 'after, via A' })).message;
    const want = [kept.id, gapB.id, gapA.id, live.id];
    const texts = () => again.seen('chat.message').map((n) => n.message.text);
    await until(
      () => want.every((m) => again.seen('chat.message').some((n) => n.message.id === m)),
      10_000,
      'alice gets all four',
    ).catch((err: unknown) => assert.fail(`${String(err)}; she got: ${texts().join(' | ')}`));
    await sleep(1000); // Time for a second copy to show up.
    const got = again.seen('chat.message').map((n) => n.message.id);
    assert.deepEqual([...got].sort(), [...want].sort(), 'each message exactly once');
    for (const c of [again, ann, bea]) await c.request('room.leave', {});
  });

  test('a gap of 250 messages (more than a page) arrives complete, once, in order', async () => {
    const { roomId, ann, bea, id, resumeToken } = await room('Long gap');
    const release = hub.hold();
    const held = hub.held;
    const again = await connectRaw(b.wsUrl, open);
    const resuming = again.request('session.resume', { token: resumeToken });
    await until(() => hub.held === held + 1, 15_000, 'A answered the handover');
    assert.equal(inRoom(b, roomId, id), false, 'B has not seated her yet');
    // 125 from each node, 25 at a time: their order is the store's (seq), not the sends'.
    const gap: { id: string; seq: number }[] = [];
    for (let i = 0; i < 10; i++) {
      const batch = Array.from({ length: 25 }, (_, j) =>
        (j % 2 ? ann : bea).request('chat.send', { text: `gap ${i * 25 + j}` }),
      );
      for (const { message } of await Promise.all(batch)) gap.push(message);
    }
    const ids = new Set(gap.map((m) => m.id));
    for (const w of [ann, bea]) {
      await until(
        () => w.seen('chat.message').filter((n) => ids.has(n.message.id)).length === 250,
        20_000,
        'the gap delivered to the others',
      );
    }
    release();
    assert.equal((await resuming).self.id, id);
    const got = () => again.seen('chat.message').filter((n) => ids.has(n.message.id));
    await until(() => got().length >= 250, 20_000, 'alice gets the whole gap').catch(
      (err: unknown) => assert.fail(`${String(err)}; she got ${got().length} of 250`),
    );
    await sleep(1000); // Time for a second copy to show up.
    const want = [...gap].sort((x, y) => x.seq - y.seq).map((m) => m.id);
    assert.deepEqual(
      got().map((n) => n.message.id),
      want,
      'each once, oldest first',
    );
    assert.equal(again.seen('chat.gap').length, 0, 'no gap told: it was caught up');
    for (const c of [again, ann, bea]) await c.request('room.leave', {});
  });

  test('her leave through B names her as she joined on A; her move is no webhook', async () => {
    const { roomId, ann, bea, id, resumeToken } = await room('Hooked move');
    const again = await connectRaw(b.wsUrl, open);
    const resumed = await again.request('session.resume', { token: resumeToken });
    assert.equal(resumed.self.nickname, 'alice');
    await sleep(300);
    await again.request('room.leave', {});
    await until(
      () => hooksOf(roomId).some((h) => h.event === 'participant_left' && h.participant?.id === id),
      10_000,
      'participant_left for alice',
    );
    await sleep(300);
    const about = hooksOf(roomId)
      .filter((h) => h.participant?.id === id)
      .map((h) => `${h.event} ${h.participant?.nickname} ${h.participant?.identity ?? '-'}`);
    assert.deepEqual(about, [
      'participant_joined alice crm-alice',
      'participant_left alice crm-alice',
    ]);
    for (const w of [ann, bea]) await w.request('room.leave', {});
  });
});
