/**
 * Browser e2e under a real bandwidth cap (issue 10): the receiver's Chromium runs in its own
 * network namespace behind a veth pair (198.18.0.0/15, test/helpers/netns.ts); the server
 * listens (HTTP and media) on the root-side veth address, so all the receiver gets leaves the
 * root side of the veth, where `tc … tbf` caps it at 300 kbit/s (netem is not available here).
 * The sender is an ordinary page with a fake camera (simulcast, 540p). Asserted, with the
 * SFU's own view (the in-process server's mediasoup consumer: its 'layerschange' events) and
 * the page's: under the cap the consumer drops to a lower simulcast layer (spatial or
 * temporal), the page shows it within 5 s and keeps decoding (no frozen video over 2 s under
 * the cap, the switch included, and at least 3 fps on the lower layer); once the cap is
 * lifted it climbs back to the layers it had and the page to the width it had. What makes
 * the switch fast is the server's hold of a congested downlink (server/src/rooms/
 * downlinkGuard.ts): the lowest layer at once, the top one no longer forwarded nor resent.
 *
 * Why tbf with a small bucket (2 packets) and not the 16 KiB of before: mediasoup (like
 * libwebrtc) probes by sending short bursts of padding well above its estimate and reads the
 * arrival rate. A 16 KiB bucket lets a whole probe cluster through at veth line rate; the
 * probes then read 560-850 kbit/s, the estimate climbs over the cap, the consumer climbs
 * back to the top layer for ~2 s every 5-12 s, the queue overflows and it falls again
 * (measured 2026-12-02: 37-63 % of a 10-s hold on a lower layer; see docs/architecture.md).
 * That is tbf's burst, not what a 300 kbit/s link does: with a bucket of two packets the
 * probes arrive at 300 kbit/s and read as such (quiet box: estimate 104-222 kbit/s under the
 * cap, 100 % of the hold below the top, no climb). The share of the hold on a lower layer is
 * logged, not asserted: the issue asks for the drop, the decoding and the climb back, and a
 * probe may still lift it for a moment.
 * The receiver's viewport is wide enough for its tile to ask for the top layer (960 px), and
 * the cap only goes on once the server sends the receiver over 1.5x the cap: a CPU-starved
 * sender's top layer can fit under 300 kbit/s, and then there is nothing to drop from.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';
import { createNetNamespace, netnsAvailable, type NetNamespace } from '../helpers/netns.ts';
import {
  compareLayers,
  currentLayers,
  formatLayers,
  layerSpans,
  preferredLayers,
  watchBwe,
  trackVideoConsumers,
  type BweSample,
  type Layers,
  type TrackedConsumer,
  type VideoConsumerTracker,
} from '../helpers/videoConsumers.ts';

const ROOM = 'Capped';
/**
 * The cap: 300 kbit/s, a bucket of two full-size packets, at most 100 ms queued. (300 ms was
 * measured too, 2026-12-03: climbs back in 1.5-4.8 s instead of 5-15 s, but the page shows
 * the lower layer only 5.5-6.3 s after the cap at load average 18-21.)
 */
const CAP = { rateKbit: 300, burst: 3028, latencyMs: 100 };
/** What the receiver must get uncapped for the cap to bind (times the cap). */
const BINDS = 1.3;
/** The switch at the cap's onset (loss until the estimate reacts, then a lower key frame). */
const ONSET_MAX_MS = 5000;
/** How long the cap holds after the drop. */
const HOLD_MS = 10_000;

interface FrameSample {
  at: number;
  frames: number;
  width: number;
}

declare global {
  interface Window {
    /** The remote video sampled every 100 ms (Date.now(), frames presented, width). */
    __frameLog?: FrameSample[];
    /** Every RTCPeerConnection the page made (for its inbound video stats). */
    __capPcs?: RTCPeerConnection[];
  }
}

/** Keeps every RTCPeerConnection of the page (for its inbound-rtp stats). */
async function keepPeerConnections(p: Participant): Promise<void> {
  await p.context.addInitScript(() => {
    const pcs: RTCPeerConnection[] = [];
    window.__capPcs = pcs;
    window.RTCPeerConnection = new Proxy(window.RTCPeerConnection, {
      construct(target, args: ConstructorParameters<typeof RTCPeerConnection>) {
        const pc = new target(...args);
        pcs.push(pc);
        return pc;
      },
    });
  });
}

/** Starts sampling the first remote video in the page every 100 ms. */
async function recordFrames(p: Participant): Promise<void> {
  await p.page.evaluate(() => {
    const log: FrameSample[] = [];
    window.__frameLog = log;
    setInterval(() => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid="remote-video"]');
      const frames = v?.getVideoPlaybackQuality().totalVideoFrames ?? 0;
      log.push({ at: Date.now(), frames, width: v?.videoWidth ?? 0 });
    }, 100);
  });
}

async function framesBetween(p: Participant, from: number, to: number): Promise<FrameSample[]> {
  return p.page.evaluate(
    ({ from, to }) => (window.__frameLog ?? []).filter((s) => s.at >= from && s.at < to),
    { from, to },
  );
}

/**
 * The longest stretch over which the page presented no new frame: from the first sample of
 * a frame count to the last sample with the same count (a lower bound of the freeze, so a
 * late sample on a loaded box cannot make one up).
 */
function longestFreezeMs(samples: readonly FrameSample[]): number {
  let longest = 0;
  let first = samples[0];
  for (const s of samples) {
    if (!first || s.frames !== first.frames) first = s;
    else longest = Math.max(longest, s.at - first.at);
  }
  return longest;
}

/**
 * How often the frame count went back: the video element was re-attached (a new srcObject,
 * so a new media player counting from 0), which also makes fps() meaningless.
 */
function reattached(samples: readonly FrameSample[]): number {
  return samples.filter((s, i) => i > 0 && s.frames < samples[i - 1]!.frames).length;
}

function fps(samples: readonly FrameSample[]): number {
  const a = samples[0];
  const b = samples.at(-1);
  return a && b && b.at > a.at ? ((b.frames - a.frames) * 1000) / (b.at - a.at) : 0;
}

/** The receiver's inbound video so far (all its connections). */
async function inbound(p: Participant) {
  return p.page.evaluate(async () => {
    const out = { pli: 0, keys: 0, freezes: 0, freezeS: 0 };
    for (const pc of window.__capPcs ?? []) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((s: Record<string, unknown>) => {
        if (s['type'] !== 'inbound-rtp' || s['kind'] !== 'video') return;
        out.pli += Number(s['pliCount'] ?? 0);
        out.keys += Number(s['keyFramesDecoded'] ?? 0);
        out.freezes += Number(s['freezeCount'] ?? 0);
        out.freezeS += Number(s['totalFreezesDuration'] ?? 0);
      });
    }
    return out;
  });
}

async function pageWidth(p: Participant): Promise<number> {
  const [v] = await p.videos();
  return v?.width ?? 0;
}

const kbit = (bps: number) => Math.round(bps / 1000);
function range(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? `${kbit(s[0]!)}/${kbit(s[s.length >> 1]!)}/${kbit(s.at(-1)!)}` : '-';
}

/** Estimate/sent (kbit/s) every sample from `from`, ms relative to `zero`: for a failure. */
function timeline(bwe: readonly BweSample[], from: number, zero: number): string {
  const at = bwe.filter((s) => s.at >= from);
  return `estimate/sent (kbit/s) at ms from the cap: ${at
    .map((s) => `${s.at - zero}:${kbit(s.bwe)}/${kbit(s.sent)}`)
    .join(' ')}`;
}

describe(
  'a bandwidth cap on the receiver (receiver in a network namespace)',
  { skip: netnsAvailable() ? false : 'needs root with ip netns and tc' },
  () => {
    let tracker: VideoConsumerTracker;
    let ns: NetNamespace;
    let server: TestServer;
    let nsBrowser: Browser;
    let rootBrowser: Browser;
    let sender: Participant;
    let receiver: Participant;

    before(async () => {
      tracker = trackVideoConsumers(); // before the server: it sees the server's workers
      ns = createNetNamespace();
      server = await startTestServer({
        server: { host: ns.hostIp },
        media: { listenIp: ns.hostIp, announcedAddress: ns.hostIp },
      });
      // getUserMedia and friends want a secure context; the origin is a veth address.
      const extraArgs = [`--unsafely-treat-insecure-origin-as-secure=${server.url}`];
      nsBrowser = await launchBrowser({ executablePath: ns.chromiumWrapper, extraArgs });
      rootBrowser = await launchBrowser({ extraArgs });
      // 540p: at 360p Chromium sends fewer, smaller layers and the top one fits under 300 kbit/s.
      sender = await newParticipant(rootBrowser, server.url, 'sender', { cameraHeight: 540 });
      receiver = await newParticipant(nsBrowser, server.url, 'receiver', {
        media: false,
        viewport: { width: 1920, height: 1080 },
      });
      await keepPeerConnections(receiver);
      await sender.createRoom({ name: ROOM });
      await receiver.joinRoom(ROOM);
      await receiver.waitInRoom();
      await receiver.waitVideosDecoding(1);
      await recordFrames(receiver);
    });

    after(async () => {
      // Each step on its own: a failed one must not leave the namespace behind.
      await receiver?.close().catch(() => undefined);
      await sender?.close().catch(() => undefined);
      await nsBrowser?.close().catch(() => undefined);
      await rootBrowser?.close().catch(() => undefined);
      await server?.stop().catch(() => undefined);
      ns?.destroy();
      tracker?.stop();
    });

    /** The server's consumer of the sender's camera for the receiver (on its veth address). */
    const receiverConsumer = (): TrackedConsumer | undefined =>
      tracker.all.findLast(
        (t) => !t.consumer.closed && t.transport.iceSelectedTuple?.remoteIp === ns.nsIp,
      );

    /**
     * Waits for the layers mediasoup settles on uncapped: the preferred ones (what the tile
     * asks for), or after 20 s whatever held for 3 s (a loaded sender may not send its top).
     */
    async function settledLayers(t: TrackedConsumer): Promise<Layers> {
      const start = Date.now();
      return waitFor(
        () => {
          const now = currentLayers(t);
          const last = t.changes.at(-1)!;
          const stable = Date.now() - last.at >= 3000;
          const preferred = now && compareLayers(now, preferredLayers(t)) === 0;
          return now && stable && (preferred || Date.now() - start > 20_000) ? now : undefined;
        },
        40_000,
        'the consumer settling on its layers before the cap',
      );
    }

    // Before the downlink hold (2026-12-03) the switch froze the page 2.5-3.4 s on a loaded
    // box (S2 into the cap, then its retransmissions, until a lower key frame got through):
    // a todo then (docs/architecture.md).
    test('300 kbit/s tbf cap on the downlink: a lower layer, no freeze, back up when lifted', async () => {
      const t = await waitFor(receiverConsumer, 20_000, "the server's consumer for the receiver");
      const est = watchBwe(t); // the estimate toward the receiver, every 500 ms
      try {
        await capAndLift(t, est.samples, est.stop);
      } finally {
        await est.stop();
      }
    });

    async function capAndLift(t: TrackedConsumer, bwe: BweSample[], stopBwe: () => Promise<void>) {
      const top = await settledLayers(t);
      const topWidth = await waitFor(() => pageWidth(receiver), 10_000, 'a video width');
      // The cap must bind: the top layer has to need more than it. A CPU-starved sender's does
      // not (measured at load average 40-50: 100-280 kbit/s, at 3-5 fps), or only at times:
      // 1.3x the cap for 2 s, waited for up to a minute (2026-12-03, load 16-43: twice not
      // 1.5x within 30 s).
      const binding = await waitFor(
        () => {
          const last = bwe.filter((s) => s.at > Date.now() - 2000);
          return last.length >= 3 && last.every((s) => s.sent >= BINDS * CAP.rateKbit * 1000);
        },
        60_000,
        `the server sending over ${BINDS * CAP.rateKbit} kbit/s to the receiver before the cap`,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}; ${timeline(bwe, Date.now() - 5000, Date.now())}`);
      });
      assert.ok(binding);
      const k0 = await inbound(receiver);

      const cappedAt = Date.now();
      ns.shape(CAP);
      let droppedAt: number;
      try {
        const drop = await waitFor(
          () =>
            t.changes.find((c) => c.at > cappedAt && c.layers && compareLayers(c.layers, top) < 0),
          20_000,
          `the consumer dropping below ${formatLayers(top)} under the cap`,
        ).catch((err: unknown) => {
          throw new Error(`${String(err)}; ${timeline(bwe, cappedAt - 5000, cappedAt)}`);
        });
        droppedAt = drop.at;
        await sleep(Math.max(0, droppedAt + HOLD_MS - Date.now()));
      } finally {
        ns.unshape();
      }
      const liftedAt = Date.now();
      const k1 = await inbound(receiver);
      let backAt = 0;
      let backErr: unknown;
      try {
        await waitFor(
          async () =>
            compareLayers(currentLayers(t), top) >= 0 && (await pageWidth(receiver)) >= topWidth,
          // From an estimate of ~50-100 kbit/s GCC's ramp to the top layer took 2-42 s.
          90_000,
          `the consumer back on ${formatLayers(top)} and the page at ${topWidth}px`,
        );
        backAt = Date.now();
        await sleep(2000); // and decoding there
      } catch (err) {
        backErr = err;
      }
      await stopBwe();
      const endAt = Date.now();

      const capped = await framesBetween(receiver, cappedAt, liftedAt);
      // On the lower layer: from the page's first smaller frame (or the drop, if temporal only).
      const switchedAt = capped.find((s) => s.width > 0 && s.width < topWidth)?.at ?? droppedAt;
      const held = capped.filter((s) => s.at >= switchedAt);
      const onsetMs = switchedAt - cappedAt;
      const lifted = await framesBetween(receiver, liftedAt, endAt);
      const uncapped = await framesBetween(receiver, cappedAt - 3000, cappedAt);
      const spans = layerSpans(t, cappedAt, liftedAt);
      const heldSpans = layerSpans(t, droppedAt, liftedAt);
      const lowMs = heldSpans
        .filter((s) => s.layers && compareLayers(s.layers, top) < 0)
        .reduce((n, s) => n + s.until - s.at, 0);
      const noneMs = heldSpans.filter((s) => !s.layers).reduce((n, s) => n + s.until - s.at, 0);
      const climbs = heldSpans.filter((s) => compareLayers(s.layers, top) >= 0).length;
      const estimate = (from: number, to: number) =>
        range(bwe.filter((s) => s.at >= from && s.at < to).map((s) => s.bwe)) +
        ` (sent ${range(bwe.filter((s) => s.at >= from && s.at < to).map((s) => s.sent))})`;
      const widths = [...new Set(held.map((s) => s.width).filter((w) => w > 0))];
      const scores = t.scores
        .filter((s) => s.at >= cappedAt && s.at < liftedAt)
        .map((s) => s.score);
      const [freezeCapped, freezeLifted] = [longestFreezeMs(capped), longestFreezeMs(lifted)];
      const freezeHeld = longestFreezeMs(held);
      console.log(
        `[netcap] uncapped ${formatLayers(top)} (preferred ${formatLayers(preferredLayers(t))}), ` +
          `${topWidth}px at ${fps(uncapped).toFixed(1)} fps, estimate ` +
          `${estimate(0, cappedAt)} kbit/s (min/median/max); cap ${CAP.rateKbit} kbit/s, burst ` +
          `${CAP.burst} B, latency ${CAP.latencyMs} ms: lower after ${droppedAt - cappedAt} ms, ` +
          `on the page after ${onsetMs} ms; preferred ` +
          `${t.preferred
            .filter((p) => p.at > cappedAt)
            .map((p) => `S${p.spatial}@${p.at - cappedAt}`)
            .join(' ')}; ` +
          `layers (ms after the cap) ` +
          `${spans.map((s) => `${formatLayers(s.layers)}@${s.at - cappedAt}`).join(' ')}; ` +
          `${Math.round((lowMs * 100) / Math.max(1, liftedAt - droppedAt))}% of the hold below ` +
          `${formatLayers(top)} (${noneMs} ms on none), ${climbs} climbs back; estimate ` +
          `${estimate(droppedAt, liftedAt)} kbit/s; page ${widths.join('/')}px at ` +
          `${fps(held).toFixed(1)} fps (video re-attached ${reattached(capped)} times), longest freeze ${freezeHeld} ms (${freezeCapped} with the ` +
          `switch), scores ` +
          `${Math.min(...scores, 10)}-${Math.max(...scores, 0)}, ${k1.pli - k0.pli} PLI, ` +
          `${k1.keys - k0.keys} key frames, WebRTC freezes ${k1.freezes - k0.freezes} ` +
          `(${(k1.freezeS - k0.freezeS).toFixed(1)} s); lifted: back ` +
          `${backAt ? `${backAt - liftedAt} ms` : 'never'} after, estimate ` +
          `${estimate(liftedAt, endAt)} kbit/s, longest freeze ${freezeLifted} ms`,
      );

      assert.ok(capped.length > 0 && lifted.length > 0, 'the page sampled its video');
      assert.ok(onsetMs < ONSET_MAX_MS, `on the lower layer ${onsetMs} ms after the cap`);
      assert.ok(
        freezeCapped < 2000,
        `no frozen video over 2 s under the cap, the switch included (${freezeCapped} ms)`,
      );
      // A tile whose video effect re-ran on every score change (2026-12-04) did this.
      assert.equal(reattached(capped), 0, 'the video was not re-attached under the cap');
      assert.ok(fps(held) >= 3, `kept decoding on the lower layer (${fps(held).toFixed(1)} fps)`);
      if (backErr) throw backErr;
      assert.ok(freezeLifted < 2000, `no frozen video over 2 s after the cap (${freezeLifted} ms)`);
    }
  },
);
