import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorCodeOf, type CaptionLine, type CaptionsState } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { PublisherBot } from '../../../test/load/bots.ts';
import { ProtooPeer } from '../../../test/load/protoo.ts';
import { loadOpusFixture, type FixtureTrack } from '../../../test/load/rtp.ts';
import { TuttiSignaling } from '../../../test/load/signaling.ts';

// Real speech as real RTP: Debian's goforward.raw ("go forward ten meters") encoded to Opus
// by ffmpeg, published over WebRTC (node-datachannel) as a member's mic; the server consumes
// it on a PlainTransport, decodes it with ffmpeg and transcribes it with pocketsphinx.

const GOFORWARD = '/usr/share/pocketsphinx/test/data/goforward.raw';
const BIND = { bindAddress: '127.0.0.1' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The caption processes among this test process's descendants (ffmpeg, sh → cat + sphinx). */
function captionProcesses(): { pid: number; comm: string }[] {
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      comm.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(entry), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === process.pid) return true;
    }
    return false;
  };
  const names = new Set(['ffmpeg', 'pocketsphinx_co', 'cat', 'sh']);
  return [...comm]
    .filter(([pid, name]) => names.has(name) && mine(pid))
    .map(([pid, name]) => ({ pid, comm: name }));
}

interface Member {
  peer: ProtooPeer;
  id: string;
  lines: CaptionLine[];
  states: CaptionsState[];
  /** Chat message texts received. */
  chat: string[];
}

describe('live captions: real speech over RTP → ffmpeg → pocketsphinx', () => {
  let s: TestServer;
  let dir: string;
  let speech: FixtureTrack;
  let roomId: string;
  let ownerSecret: string;
  const closers: (() => void)[] = [];

  /** A member without media that records the captions it is sent. */
  async function member(name: string): Promise<Member> {
    const peer = await ProtooPeer.connect(s.wsUrl);
    closers.push(() => peer.close());
    const lines: CaptionLine[] = [];
    const states: CaptionsState[] = [];
    const chat: string[] = [];
    peer.on('captions.line', (line) => lines.push(line));
    peer.on('chat.message', ({ message }) => chat.push(message.text));
    peer.on('captions.state', ({ captions }) => states.push(captions));
    const joined = await peer.request('room.join', { roomId, nickname: name });
    if (joined.captions) states.push(joined.captions);
    return { peer, id: joined.self.id, lines, states, chat };
  }

  async function speaker(
    name: string,
  ): Promise<{ id: string; bot: PublisherBot; sig: TuttiSignaling }> {
    const sig = await TuttiSignaling.join(s.wsUrl, roomId, name);
    const bot = new PublisherBot(sig, { video: undefined, audio: speech }, { name, ...BIND });
    await bot.start();
    closers.push(() => bot.close());
    const room = s.app.tutti.rooms.get(roomId)!;
    const id = [...room.members()].find((m) => m.info.nickname === name)!.id;
    return { id, bot, sig };
  }

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tutti-captions-'));
    const ogg = path.join(dir, 'goforward.ogg');
    // 2.8 s of speech, then 3 s of silence (the bot loops it).
    execFileSync('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y'],
      ...['-f', 's16le', '-ar', '16000', '-ac', '1', '-i', GOFORWARD, '-af', 'apad=pad_dur=3'],
      ...['-c:a', 'libopus', '-b:a', '32k', '-frame_duration', '20', '-application', 'voip'],
      ...['-ar', '48000', '-ac', '1', '-f', 'ogg', ogg],
    ]);
    speech = loadOpusFixture(pathToFileURL(ogg));
    s = await startTestServer({ captions: { listenIp: '127.0.0.51', maxStreams: 1 } });
    const owner = await ProtooPeer.connect(s.wsUrl);
    ({
      room: { id: roomId },
      ownerSecret,
    } = await owner.request('room.create', { name: 'Captioned' }));
    owner.close();
  });

  after(async () => {
    for (const close of closers.splice(0)) close();
    await sleep(300);
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('only the owner turns captions on; they reach every member with the speaker id', async () => {
    const host = await member('host');
    const guest = await member('guest');
    assert.deepEqual(host.states.at(-1)?.enabled, false, 'off in the join answer');

    const refused = async (p: Promise<unknown>) =>
      errorCodeOf(
        await p.then(
          () => null,
          (e) => e,
        ),
      );
    assert.equal(await refused(guest.peer.request('captions.set', { enabled: true })), 'FORBIDDEN');
    assert.equal(
      await refused(guest.peer.request('captions.set', { enabled: true, ownerSecret: 'x' })),
      'FORBIDDEN',
    );
    const { captions } = await host.peer.request('captions.set', { enabled: true, ownerSecret });
    assert.deepEqual(captions, {
      enabled: true,
      enabledBy: host.id,
      engine: 'pocketsphinx',
      language: 'en-US',
      gaps: [],
    });
    await until('the guest told', () => guest.states.at(-1)?.enabled === true);

    const alice = await speaker('alice');
    // pocketsphinx runs well below real time on a loaded box: allow for it.
    await until(
      'a caption with "forward"',
      () => guest.lines.some((l) => l.peerId === alice.id && /forward/.test(l.text)),
      60_000,
    );
    const line = guest.lines.find((l) => /forward/.test(l.text))!;
    assert.equal(line.final, true);
    assert.match(line.text, /go forward ten meters/);
    assert.ok(
      host.lines.some((l) => l.id === line.id),
      'the same line reached the host',
    );

    // The node's limit (maxStreams 1): a second speaker is listed as a gap, not transcribed.
    const bob = await speaker('bob');
    await until(
      'bob listed as a gap',
      () =>
        guest.states.at(-1)?.gaps.some((g) => g.peerId === bob.id && g.reason === 'limit') ?? false,
    );
    const ffmpegs = () => captionProcesses().filter((p) => p.comm === 'ffmpeg');
    assert.equal(captionProcesses().filter((p) => p.comm === 'pocketsphinx_co').length, 1);

    // A crashed decoder is restarted: the captions keep coming.
    await until('ffmpeg running', () => ffmpegs().length === 1);
    const [crashed] = ffmpegs();
    process.kill(crashed!.pid, 'SIGKILL');
    await until('a new ffmpeg', () => ffmpegs().some((p) => p.pid !== crashed!.pid), 20_000);

    // Muted: the decoder goes, the recognizer stays; unmuted: the decoder is back.
    const producerId = alice.bot.producerIds[0]!;
    await alice.sig.peer.request('media.pauseProducer', { producerId });
    await until('no ffmpeg while muted', () => ffmpegs().length === 0);
    assert.equal(captionProcesses().filter((p) => p.comm === 'pocketsphinx_co').length, 1);
    await alice.sig.peer.request('media.resumeProducer', { producerId });
    await until('ffmpeg after unmuting', () => ffmpegs().length === 1);
    const before = guest.lines.length;
    await until('captions after restart and unmute', () => guest.lines.length > before, 60_000);

    // Alice leaves: her processes go, her slot goes to bob.
    alice.bot.close();
    await until('bob captioned', () => guest.states.at(-1)?.gaps.length === 0, 20_000);
    await until(
      'a caption of bob',
      () => guest.lines.some((l) => l.peerId === bob.id && /forward/.test(l.text)),
      60_000,
    );

    const sphinxes = captionProcesses().filter((p) => p.comm === 'pocketsphinx_co');
    assert.equal(sphinxes.length, 1, 'alice’s recognizer went with her');

    // The transcript, saved by the owner into the chat history.
    assert.equal(await refused(guest.peer.request('captions.save', {})), 'FORBIDDEN', 'owner only');
    const { lines } = await host.peer.request('captions.save', { ownerSecret });
    assert.ok(lines >= 2, `${lines} lines`);
    await until('the transcript in the chat', () =>
      guest.chat.some((t) => /^Transcript/.test(t) && /\nbob: .*forward/.test(t)),
    );
    const transcript = guest.chat.find((t) => /^Transcript/.test(t))!;
    assert.match(transcript, /\nalice: go forward ten meters/);

    // Off: no caption process is left.
    await host.peer.request('captions.set', { enabled: false, ownerSecret });
    assert.deepEqual(captionProcesses(), []);
    await until('the guest told', () => guest.states.at(-1)?.enabled === false);

    // On again, then everyone leaves: the emptied room takes its streams with it.
    await host.peer.request('captions.set', { enabled: true, ownerSecret });
    await until('bob transcribed again', () => captionProcesses().length >= 2, 20_000);
    bob.bot.close();
    host.peer.close();
    guest.peer.close();
    await until('no caption process left', () => captionProcesses().length === 0);
  });
});
