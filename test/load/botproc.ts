import { PublisherBot, SubscriberBot, pacer, type BotSignaling } from './bots.ts';
import { SIMULCAST_SCALES, tileLayer } from './profile.ts';
import type { BotInit, BotStats, FromBots, SpawnSpec, ToBots } from './ipc.ts';
import { loadOpusFixture, loadVp8Fixture } from './rtp.ts';
import { BareSignaling, TuttiSignaling, ensureRoom, signalingUrl } from './signaling.ts';

/**
 * The bot process, forked by a controller (test/load/controller.ts). Keeping the bots out
 * of the server's and the controller's process lets CPU be measured per side.
 */

if (!process.send) {
  console.error('botproc.ts is started by the load tool (fork with IPC), not by hand');
  process.exit(2);
}

const video = loadVp8Fixture();
const audio = loadOpusFixture();
/** The chrome profile's three simulcast layers, made on first use. */
let simulcast: ReturnType<typeof loadVp8Fixture>[] | undefined;
let subscriberCount = 0;
/** Streams older than this that received nothing in a stats window count as stalled. */
const SETTLE_MS = 3000;

let init: BotInit | undefined;
const publishers: PublisherBot[] = [];
const subscribers: SubscriberBot[] = [];
const roomIds = new Map<string, Promise<string>>();
let failed = 0;
let errors: string[] = [];
let nextPeer = 1;
const lastPackets = new WeakMap<object, number>();
const reportedFirst = new WeakSet<object>();
let stopping = false;
let lastStatsAt = 0;
let lastStalled = 0;

function send(msg: FromBots): void {
  process.send?.(msg);
}

function noteError(err: unknown): void {
  failed++;
  if (errors.length < 20) errors.push(err instanceof Error ? err.message : String(err));
}

async function signalingFor(room: string, nickname: string, url?: string): Promise<BotSignaling> {
  if (!init) throw new Error('not initialised');
  if (init.mode === 'bare') {
    const sig = new BareSignaling(`p${nextPeer++}`);
    await sig.request('join', { room });
    return sig;
  }
  const ws = signalingUrl(url ?? init.url ?? '');
  let id = roomIds.get(room); // One room id on every node of a cluster (one store).
  if (!id) {
    id = ensureRoom(ws, room);
    roomIds.set(room, id);
    id.catch(() => roomIds.delete(room));
  }
  return TuttiSignaling.join(ws, await id, nickname);
}

async function spawn(spec: SpawnSpec): Promise<{ ok: number; failed: number; errors: string[] }> {
  const bindAddress = init?.bindAddress;
  const chrome = init?.profile === 'chrome';
  if (chrome) simulcast ??= SIMULCAST_SCALES.map((s) => loadVp8Fixture(undefined, s));
  const media = {
    video: spec.media === 'audio' ? undefined : video,
    audio: spec.media === 'video' ? undefined : audio,
    ...(chrome && spec.media !== 'audio' ? { simulcast } : {}),
  };
  let ok = 0;
  let bad = 0;
  const errs: string[] = [];
  const fail = (err: unknown): void => {
    bad++;
    noteError(err);
    if (errs.length < 5) errs.push(err instanceof Error ? err.message : String(err));
  };
  for (let i = 0; i < spec.publishers && !stopping; i++) {
    const name = `pub-${nextPeer}`;
    try {
      const bot = new PublisherBot(
        await signalingFor(spec.room, name),
        media,
        { name, bindAddress },
        spec.videoSource ?? 'camera',
      );
      publishers.push(bot);
      await bot.start();
      ok++;
    } catch (err) {
      fail(err);
    }
  }
  const concurrency = Math.max(1, spec.concurrency ?? 10);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < spec.subscribers && !stopping) {
      const url = spec.urls?.[next % spec.urls.length];
      next++;
      const name = `sub-${nextPeer}`;
      const startedAt = performance.now();
      try {
        const bot = new SubscriberBot(
          await signalingFor(spec.room, name, url),
          { name, bindAddress },
          init?.headerExt ?? 'none',
          chrome
            ? {
                profile: 'chrome',
                layer: tileLayer(subscriberCount++),
                ...(init?.feedback ? { feedback: init.feedback } : {}),
              }
            : { profile: 'light' },
        );
        subscribers.push(bot);
        await bot.start(startedAt);
        ok++;
      } catch (err) {
        fail(err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return { ok, failed: bad, errors: errs };
}

function stats(): BotStats {
  const now = performance.now();
  // Stalls are judged over at least half a second; closer calls repeat the last verdict.
  const judgeStalls = now - lastStatsAt >= 500;
  if (judgeStalls) lastStatsAt = now;
  let packets = 0;
  let bytes = 0;
  let expected = 0;
  let streams = 0;
  let streamsFlowing = 0;
  let stalled = 0;
  const firstPacketMs: BotStats['firstPacketMs'] = { video: [], audio: [] };
  for (const sub of subscribers) {
    for (const s of sub.streams.values()) {
      streams++;
      packets += s.stats.packets;
      bytes += s.stats.bytes;
      expected += s.stats.expected;
      if (s.stats.packets > 0) {
        streamsFlowing++;
        if (!reportedFirst.has(s)) {
          reportedFirst.add(s);
          firstPacketMs[s.kind].push(s.stats.firstAt - sub.startedAt);
        }
      }
      if (judgeStalls) {
        const prev = lastPackets.get(s) ?? 0;
        if (now - s.announcedAt > SETTLE_MS && s.stats.packets === prev) stalled++;
        lastPackets.set(s, s.stats.packets);
      }
    }
  }
  let sentPackets = 0;
  let sentBytes = 0;
  for (const p of publishers) {
    for (const s of p.streams) {
      sentPackets += s.sentPackets;
      sentBytes += s.sentBytes;
    }
  }
  const cpu = process.cpuUsage();
  const out: BotStats = {
    at: Date.now(),
    publishers: publishers.length,
    subscribers: subscribers.length,
    failed,
    streams,
    streamsFlowing,
    packets,
    bytes,
    expected,
    sentPackets,
    sentBytes,
    sendErrors: pacer.sendErrors,
    stalled: judgeStalls ? (lastStalled = stalled) : lastStalled,
    firstPacketMs,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    rssBytes: process.memoryUsage.rss(),
    errors,
  };
  errors = [];
  return out;
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  for (const b of [...subscribers, ...publishers]) b.close();
  // Give DTLS close alerts a moment, then exit. Not ndc.cleanup(): it can deadlock on a
  // track's lock (the main thread then never returns, and no timer could end the process).
  setTimeout(() => {
    send({ t: 'stopped' });
    process.exit(0);
  }, 300).unref();
}

process.on('message', (raw) => {
  const msg = raw as ToBots;
  switch (msg.t) {
    case 'init':
      init = msg.init;
      send({ t: 'ready' });
      break;
    case 'spawn': {
      const t0 = performance.now();
      void spawn(msg.spec).then((r) =>
        send({ t: 'spawned', id: msg.id, ...r, ms: performance.now() - t0 }),
      );
      break;
    }
    case 'stats':
      send({ t: 'stats', id: msg.id, stats: stats() });
      break;
    case 'stop':
      stop();
      break;
    case 'sigres':
      BareSignaling.onResponse(msg.id, msg.ok, msg.data, msg.error);
      break;
    case 'srvreq':
      void BareSignaling.onServerRequest(msg.peer, msg.id, msg.data);
      break;
  }
});
// The controller owns our lifetime: Ctrl-C reaches the whole process group, and the
// controller sends 'stop'. If it dies, the IPC channel closes and we stop too.
process.on('SIGINT', () => undefined);
process.on('disconnect', stop);
process.on('SIGTERM', stop);
