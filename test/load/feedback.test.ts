import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Consumer, WebRtcTransport } from 'mediasoup/types';
import {
  simulcastPublisher,
  skipWithoutWorker,
  startInProcessBareSfu,
} from '../helpers/bareSfuBots.ts';
import { SubscriberBot } from './bots.ts';
import type { FeedbackMode } from './feedback.ts';
import { buildNack } from './rtcp.ts';

/**
 * The subscriber bots' Chrome-like RTCP feedback against a real mediasoup worker: what the
 * worker reports only moves when it accepts the feedback — the consumer's RTT (from RRs
 * with LSR/DLSR), the transport's send-side bandwidth estimate (from transport-cc), NACKs
 * counted and answered over RTX. Without feedback (the old bots) none of it moves.
 */

const skip = skipWithoutWorker();
const HOST = process.env.TUTTI_TEST_BOT_HOST ?? '127.0.0.1';
const INITIAL_BITRATE = 1_000_000; // BareSfu's initialAvailableOutgoingBitrate
/** The chrome subscriber "loses" every LOSE_EVERY-th packet before its feedback sees it. */
const LOSE_EVERY = 5;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Observed {
  transportBitrates: number[];
  /** The transport's rtpPacketLossSent: the loss transport-cc feedback reported. */
  lossSent: number;
  rtt: number | undefined;
  nackCount: number;
  nackPacketCount: number;
  rtxReceived: number;
  sub: SubscriberBot;
}

/**
 * One worker, one Chrome-profile publisher (three simulcast layers + Opus) and two
 * subscribers side by side on the same producers: one with each feedback mode. (One
 * process, one set of PeerConnections: libdatachannel crashed (SIGSEGV) when a second set
 * was made after the first was closed.)
 */
async function run(): Promise<Record<FeedbackMode, Observed>> {
  const bare = await startInProcessBareSfu(HOST);
  const { sfu } = bare;
  const transports = new Map<string, WebRtcTransport>();
  const consumers = new Map<string, Consumer[]>();
  sfu.worker.observer.on('newrouter', (r) =>
    r.observer.on('newtransport', (t) => {
      transports.set(t.id, t as WebRtcTransport);
      t.observer.on('newconsumer', (c) => consumers.set(t.id, [...(consumers.get(t.id) ?? []), c]));
    }),
  );
  const bots: { close(): void }[] = [];
  try {
    for (const peer of ['pub', 'chrome', 'none']) await sfu.handle(peer, 'join', { room: 'fb' });
    const pub = simulcastPublisher(bare, HOST);
    bots.push(pub);
    await pub.start();
    const modes: FeedbackMode[] = ['chrome', 'none'];
    const subs = new Map<FeedbackMode, { sub: SubscriberBot; recvId: string }>();
    for (const feedback of modes) {
      const sig = bare.signaling(feedback);
      const entry = { sub: undefined as unknown as SubscriberBot, recvId: '' };
      const create = sig.createTransport;
      sig.createTransport = async (direction) => {
        const t = await create(direction);
        entry.recvId = t.id;
        return t;
      };
      entry.sub = new SubscriberBot(sig, { name: feedback, bindAddress: HOST }, 'none', {
        profile: 'chrome',
        layer: 2,
        feedback,
      });
      bots.push(entry.sub);
      subs.set(feedback, entry);
      const fb = entry.sub.feedback;
      if (fb) {
        // Loopback loses nothing: make the feedback see 20 % loss, so that what the worker
        // does with it shows (tcc loss → its estimate falls; NACKs → RTX).
        const onRtp = fb.onRtp.bind(fb);
        let n = 0;
        fb.onRtp = (p, now) => {
          if (++n % LOSE_EVERY !== 0) onRtp(p, now);
        };
      }
      await entry.sub.start();
    }
    const bitrates = new Map<FeedbackMode, number[]>(modes.map((m) => [m, []]));
    const lossSent = new Map<FeedbackMode, number>();
    for (let i = 0; i < 12; i++) {
      await sleep(500);
      for (const m of modes) {
        const [ts] = await transports.get(subs.get(m)!.recvId)!.getStats();
        bitrates.get(m)!.push(ts?.availableOutgoingBitrate ?? NaN);
        if (i === 11) lossSent.set(m, ts?.rtpPacketLossSent ?? NaN);
      }
    }
    const video = (m: FeedbackMode): Consumer =>
      consumers.get(subs.get(m)!.recvId)?.find((c) => c.kind === 'video') ??
      assert.fail(`no video consumer for ${m}`);
    // The other bot sends no NACKs of its own: ask for two packets by hand, as a receiver
    // that missed them would (its consumer's seqs are recent: the chrome bot's).
    const seq = subs
      .get('chrome')!
      .sub.feedback!.highestSeq(video('chrome').rtpParameters.encodings![0]!.ssrc!);
    const noneSsrc = video('none').rtpParameters.encodings![0]!.ssrc!;
    subs
      .get('none')!
      .sub.sendRtcp(buildNack(1, noneSsrc, [(seq - 3) & 0xffff, (seq - 2) & 0xffff]));
    await sleep(500);
    const out = {} as Record<FeedbackMode, Observed>;
    for (const m of modes) {
      const o = (await video(m).getStats()).find((s) => s.type === 'outbound-rtp');
      assert.ok(o, 'consumer stats');
      const sub = subs.get(m)!.sub;
      out[m] = {
        transportBitrates: bitrates.get(m)!,
        lossSent: lossSent.get(m)!,
        rtt: o.roundTripTime,
        nackCount: o.nackCount,
        nackPacketCount: o.nackPacketCount,
        rtxReceived: sub.feedback?.rtxReceived ?? 0,
        sub,
      };
    }
    return out;
  } finally {
    for (const b of bots) b.close();
    sfu.close();
  }
}

test(
  'chrome feedback: mediasoup takes the transport-cc, RRs and NACKs; without, nothing moves',
  { skip },
  async () => {
    const { chrome: r, none } = await run();
    const fb = r.sub.feedback;
    assert.ok(fb, 'the chrome profile has feedback');
    const msg = JSON.stringify({
      chrome: { ...r, sub: undefined, sent: fb.sent },
      none: { ...none, sub: undefined },
    });
    assert.equal(fb.sent.sendErrors, 0, msg);
    assert.ok(fb.sent.tcc >= 30, `transport-cc feedbacks sent in 6 s: ${msg}`);
    assert.ok(fb.sent.rr >= 4, `receiver reports: ${msg}`);
    // RR with LSR/DLSR → the worker computes an RTT (loopback: a few ms at most).
    assert.ok(r.rtt !== undefined && r.rtt > 0 && r.rtt < 200, `consumer RTT: ${msg}`);
    // transport-cc reporting 20 % loss → the worker's loss figure and its estimate follow.
    assert.ok(r.lossSent > 0.1 && r.lossSent < 0.35, `rtpPacketLossSent: ${msg}`);
    assert.ok(
      r.transportBitrates.some((b) => b < INITIAL_BITRATE),
      `availableOutgoingBitrate fell: ${msg}`,
    );
    // NACKs for the gaps were decrypted, parsed and answered over RTX.
    assert.ok(fb.sent.nack >= 10 && r.nackCount >= 10, `NACKs: ${msg}`);
    assert.ok(r.nackPacketCount >= 10, msg);
    assert.ok(fb.sent.rtxRecovered >= 10, `recovered over RTX: ${msg}`);
    // The other subscriber, as the bots were before: no RTT, no estimate, no loss.
    assert.equal(none.sub.feedback, undefined);
    assert.ok(!none.rtt, `no RTT without RRs: ${msg}`);
    assert.equal(none.lossSent, 0, msg);
    assert.ok(
      none.transportBitrates.every((b) => b === INITIAL_BITRATE),
      `no estimate without transport-cc: ${msg}`,
    );
    // A hand-made NACK goes through there too: sendRtcp is SRTCP on the same transport.
    assert.equal(none.nackCount, 1, msg);
    assert.equal(none.nackPacketCount, 2, msg);
  },
);
