import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RecordingItem, RecordingState } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { PublisherBot } from '../../../test/load/bots.ts';
import { ProtooPeer } from '../../../test/load/protoo.ts';
import { loadOpusFixture, loadVp8Fixture } from '../../../test/load/rtp.ts';
import { TuttiSignaling } from '../../../test/load/signaling.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver.ts';

// Server-side recording (issue #13) with real RTP: node-datachannel bots publish the VP8 +
// Opus fixture; the server writes each track with ffmpeg -c copy and makes a composite.
// ffprobe / ffmpeg judge the files.

const exec = promisify(execFile);
const video = loadVp8Fixture();
const audio = loadOpusFixture();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Member {
  name: string;
  sig: TuttiSignaling;
  bot: PublisherBot;
  states: RecordingState[];
  items: RecordingItem[];
  close(): void;
}

async function until<T>(what: string, get: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface Probe {
  streams: { codec_type: string; codec_name: string }[];
  format: { duration?: string };
}

async function ffprobe(file: string): Promise<Probe> {
  const { stdout } = await exec('ffprobe', [
    ...['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', file],
  ]);
  return JSON.parse(stdout) as Probe;
}

/** Decodes every frame; throws if ffmpeg reports any error. Returns the decoded seconds. */
async function decodes(file: string): Promise<number> {
  const { stderr } = await exec('ffmpeg', [
    ...['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-'],
  ]);
  assert.equal(stderr.trim(), '', `${path.basename(file)} decodes without errors`);
  return Number((await ffprobe(file)).format.duration ?? 0);
}

/** The ffmpeg processes this test process started whose arguments mention `dir`. */
async function ffmpegChildren(dir: string): Promise<number[]> {
  const { stdout } = await exec('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)]);
  return stdout
    .split('\n')
    .filter((l) => l.includes('ffmpeg') && l.includes(dir) && l.includes('.sdp'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe('recording (three participants, real RTP, ffmpeg)', () => {
  let s: TestServer;
  let hooks: WebhookReceiver;
  let roomId: string;
  let ownerSecret: string;
  let files: string;
  const members: Member[] = [];

  async function join(name: string, kind: 'camera' | 'screen' = 'camera'): Promise<Member> {
    const sig = await TuttiSignaling.join(s.wsUrl, roomId, name);
    const states: RecordingState[] = [];
    const items: RecordingItem[] = [];
    sig.peer.on('recording.state', ({ state }) => states.push(state));
    sig.peer.on('recording.item', ({ item }) => items.push(item));
    const bot = new PublisherBot(
      sig,
      { video, audio: kind === 'camera' ? audio : undefined },
      { name, bindAddress: '127.0.0.1' },
      kind,
    );
    await bot.start();
    const m: Member = { name, sig, bot, states, items, close: () => bot.close() };
    members.push(m);
    return m;
  }

  async function download(url: string, name: string): Promise<{ status: number; file: string }> {
    const res = await fetch(s.url + url, { signal: AbortSignal.timeout(15_000) });
    const file = path.join(files, name);
    if (res.ok) writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    else await res.body?.cancel();
    return { status: res.status, file };
  }

  before(async () => {
    files = mkdtempSync(path.join(tmpdir(), 'tutti-recording-test-'));
    // A range of our own, away from the workers' 40000–49999 and other runs' picks.
    const base = 52_000 + 2 * Math.floor(Math.random() * 3000);
    hooks = await startWebhookReceiver();
    s = await startTestServer({
      recording: { portMin: base, portMax: base + 199, maxConcurrent: 1 },
      webhooks: { urls: [hooks.url], secret: 'recording-webhooks-secret-0123', backoffMs: 50 },
    });
    const peer = await ProtooPeer.connect(s.wsUrl);
    const created = await peer.request('room.create', { name: 'Recorded' });
    peer.close();
    roomId = created.room.id;
    ownerSecret = created.ownerSecret;
  });

  after(async () => {
    for (const m of members) m.close();
    await sleep(300);
    await s.stop();
    await hooks.close();
    if (!process.env.TUTTI_KEEP_RECORDINGS) rmSync(files, { recursive: true, force: true });
  });

  let item: RecordingItem;

  test('10 s of three participants: late joiner, screen share, mute, leave; composite and per-track files', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    await assert.rejects(
      alice.sig.peer.request('recording.start', { ownerSecret: 'not-the-secret' }),
      /FORBIDDEN/,
      'only the owner starts a recording',
    );
    const { state } = await alice.sig.peer.request('recording.start', { ownerSecret });
    assert.equal(state.active, true);
    assert.equal(state.tracks, 4, 'two members × (camera + mic)');
    await until('bob told it is on', () => bob.states.find((st) => st.active));
    const started = Date.now();
    const marks: string[] = [];
    const mark = (what: string) => marks.push(`${what}@${Date.now() - started}`);

    await sleep(2500);
    const carol = await join('carol'); // Late joiner: her tracks are added as they come.
    mark('carol');
    const list = await carol.sig.peer.request('recording.list', {});
    assert.equal(list.recording.active, true, 'a late joiner is told it is recording');
    await until('carol recorded', () => alice.states.find((st) => st.active && st.tracks === 6));
    // A screen share (video only) starts mid-way: one more track.
    const dan = await join('dan', 'screen');
    await until('the screen recorded', () =>
      alice.states.find((st) => st.active && st.tracks === 7),
    );
    mark('screen');

    mark('recorded');
    // Bob mutes his mic for 2 s, then leaves at 7.5 s.
    const bobMic = bob.bot.producerIds[1]!;
    await bob.sig.peer.request('media.pauseProducer', { producerId: bobMic });
    await sleep(2000);
    await bob.sig.peer.request('media.resumeProducer', { producerId: bobMic });
    await sleep(Math.max(0, 7500 - (Date.now() - started)));
    bob.close();
    mark('bob left');

    await sleep(Math.max(0, 10_000 - (Date.now() - started)));
    const stopped = await alice.sig.peer.request('recording.stop', { ownerSecret });
    assert.equal(stopped.state.active, false);
    item = await until('the recording item', () => alice.items[0], 90_000);
    assert.equal(item.status, 'ready', `status (${JSON.stringify(item)})`);
    assert.ok(item.url, 'a composite link');
    assert.ok(carol.items[0], 'every member is told');
    assert.equal(item.tracks.length, 7);
    // The webhooks hear it too: recording_started, then recording_finished naming the item.
    type Hook = {
      event: string;
      room: { id: string; name: string };
      recording?: { id: string; status: string; tracks: number };
    };
    const hooked = () => hooks.received.map((h) => JSON.parse(h.body) as Hook);
    const finishedHook = await until('the recording_finished webhook', () =>
      hooked().find((h) => h.event === 'recording_finished' && h.room.id === roomId),
    );
    assert.equal(finishedHook.recording?.id, item.id);
    assert.equal(finishedHook.recording?.status, 'ready');
    assert.equal(finishedHook.recording?.tracks, 7);
    const startedHook = hooked().find((h) => h.event === 'recording_started');
    assert.deepEqual(startedHook?.room, { id: roomId, name: 'Recorded' });

    const composite = await download(item.url, 'composite.mp4');
    assert.equal(composite.status, 200);
    const probe = await ffprobe(composite.file);
    const kinds = probe.streams.map((st) => st.codec_type).sort();
    assert.deepEqual(kinds, ['audio', 'video'], 'the composite has video and audio');
    const duration = Number(probe.format.duration);
    assert.ok(
      Math.abs(duration - 10) <= 1.5,
      `composite lasts 10 ± 1.5 s (${duration}; recorded ${item.durationMs} ms; ${marks.join(' ')})`,
    );
    await decodes(composite.file);

    for (const t of item.tracks) {
      const got = await download(t.url, t.name);
      assert.equal(got.status, 200, t.name);
      const seconds = await decodes(got.file);
      assert.ok(seconds > 1, `${t.name} holds media (${seconds} s)`);
      const codec = (await ffprobe(got.file)).streams[0]?.codec_name;
      assert.ok(codec === 'vp8' || codec === 'opus', `${t.name} kept its codec (${codec})`);
    }
    const carolTracks = item.tracks.filter((t) => /track-0[45]/.test(t.name));
    assert.equal(carolTracks.length, 2, "the late joiner's two tracks");
    assert.ok(
      item.tracks.some((t) => t.name === 'track-06-screen.webm'),
      'the screen share mid-way',
    );
    dan.close();
  });

  test('downloads are for members of the room only', async () => {
    const url = item.url!;
    const bare = url.split('?')[0]!;
    assert.equal((await download(bare, 'x')).status, 403, 'no token');
    assert.equal((await download(`${bare}?t=forged.token`, 'x')).status, 403, 'forged token');
    // Bob left: his own link (a token naming him) no longer opens anything.
    const bobToken = members.find((m) => m.name === 'bob')!.items[0];
    if (bobToken?.url) assert.equal((await download(bobToken.url, 'x')).status, 403, 'left');
    // Carol's link works while she is inside, and stops once she left.
    const carol = members.find((m) => m.name === 'carol')!;
    const carolUrl = carol.items[0]!.url!;
    assert.equal((await download(carolUrl, 'c.mp4')).status, 200);
    carol.close();
    await sleep(300);
    assert.equal((await download(carolUrl, 'c2.mp4')).status, 403, 'after leaving');
    const otherRecording = bare.replace(item.id, '00000000-0000-4000-8000-000000000000');
    const token = url.split('?t=')[1]!;
    assert.equal((await download(`${otherRecording}?t=${token}`, 'x')).status, 404);
  });

  test('an ffmpeg crash mid-way: the room is told, the files up to then are playable', async () => {
    const alice = members.find((m) => m.name === 'alice')!;
    alice.items.length = 0;
    await alice.sig.peer.request('recording.start', { ownerSecret });
    // The node's limit (maxConcurrent 1): another room cannot record meanwhile.
    const peer = await ProtooPeer.connect(s.wsUrl);
    const other = await peer.request('room.create', { name: 'Second room' });
    await peer.request('room.join', { roomId: other.room.id, nickname: 'dave' });
    await assert.rejects(
      peer.request('recording.start', { ownerSecret: other.ownerSecret }),
      /UNAVAILABLE: the recording limit/,
    );
    peer.close();
    await sleep(3500);
    const pids = await ffmpegChildren(s.dataDir);
    assert.equal(pids.length, 2, "alice's two writers run");
    process.kill(pids[0]!, 'SIGKILL');
    const failed = await until('the error state', () => alice.states.find((st) => st.error));
    assert.match(failed.error!, /track writer stopped/);
    await sleep(1500);
    await alice.sig.peer.request('recording.stop', { ownerSecret });
    const crashed = await until('the item', () => alice.items[0], 90_000);
    assert.equal(crashed.status, 'partial');
    assert.ok(crashed.url);
    const composite = await download(crashed.url, 'crash.mp4');
    const probe = await ffprobe(composite.file);
    assert.deepEqual(probe.streams.map((st) => st.codec_type).sort(), ['audio', 'video']);
    for (const t of crashed.tracks) {
      const got = await download(t.url, `crash-${t.name}`);
      const seconds = await decodes(got.file);
      assert.ok(seconds > 0.5, `${t.name} plays up to the crash (${seconds} s)`);
    }
  });

  test('the media worker dies mid-way: the room is told, the files up to then play', async () => {
    const alice = members.find((m) => m.name === 'alice')!;
    alice.items.length = 0;
    alice.states.length = 0;
    await alice.sig.peer.request('recording.start', { ownerSecret });
    await sleep(2500);
    const room = s.app.tutti.rooms.get(roomId)!;
    process.kill(room.media.workerPid!, 'SIGKILL');
    const cut = await until('the error state', () => alice.states.find((st) => st.error));
    assert.match(cut.error!, /cut short: the media worker went away/);
    await alice.sig.peer.request('recording.stop', { ownerSecret });
    const item = await until('the item', () => alice.items[0], 90_000);
    assert.equal(item.status, 'partial');
    assert.equal(item.tracks.length, 2);
    for (const t of item.tracks) {
      const got = await download(t.url, `worker-${t.name}`);
      assert.ok((await decodes(got.file)) > 1, `${t.name} plays up to the worker's death`);
    }
    alice.items.push(item); // The next test downloads it.
  });

  test('the storage refuses the files: a failed item and a clear state, not a hang', async () => {
    const alice = members.find((m) => m.name === 'alice')!;
    const kept = alice.items.splice(0);
    alice.states.length = 0;
    // The local driver's staging folder replaced by a file: every put fails (as on a full disk).
    const partial = path.join(s.dataDir, 'recordings', '.partial');
    rmSync(partial, { recursive: true, force: true });
    writeFileSync(partial, 'not a folder');
    try {
      await alice.sig.peer.request('recording.start', { ownerSecret });
      await sleep(1500);
      await alice.sig.peer.request('recording.stop', { ownerSecret });
      const failed = await until('the item', () => alice.items[0], 60_000);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.url, null);
      const state = await until('the error state', () =>
        alice.states.find((st) => !st.active && st.error),
      );
      assert.match(state.error!, /could not be stored/);
    } finally {
      rmSync(partial, { force: true });
      alice.items.splice(0, alice.items.length, ...kept);
    }
  });

  test('deleting the room deletes its recordings', async () => {
    const alice = members.find((m) => m.name === 'alice')!;
    const url = alice.items.at(-1)!.url!;
    assert.equal((await download(url, 'before.mp4')).status, 200);
    const peer = await ProtooPeer.connect(s.wsUrl);
    await peer.request('room.delete', { roomId, ownerSecret });
    peer.close();
    const { readdir } = await import('node:fs/promises');
    const left = await readdir(path.join(s.dataDir, 'recordings')).catch(() => []);
    assert.deepEqual(
      left.filter((f) => f !== '.partial'),
      [],
      'nothing of the room is left in the storage',
    );
    assert.equal((await download(url, 'after.mp4')).status, 403, 'nor downloadable');
  });
});
