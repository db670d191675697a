import {
  TICKS_PER_MS,
  buildNack,
  buildReceiverReport,
  buildTransportCc,
  forEachSenderReport,
  rtpPayloadOffset,
  transportWideSeq,
  type ReportBlock,
} from './rtcp.ts';

/**
 * What a Chrome receiver sends back on one transport, for the subscriber bots of the chrome
 * profile: transport-cc feedback every ~100 ms (all packets since the previous feedback, by
 * transport-wide sequence number), a receiver report per received SSRC every ~1 s (loss,
 * extended highest sequence number, jitter, LSR/DLSR against the SFU's sender reports, so
 * the SFU gets an RTT), and NACKs for sequence gaps (each missing packet asked at most
 * NACK_TRIES times, at most MAX_MISSING per stream remembered). All of a tick goes out as
 * one compound RTCP packet. Cheap: per received packet a few reads and two array pushes.
 */

export type FeedbackMode = 'none' | 'chrome';

const TICK_MS = 25;
/** A bot's feedback runs every FEEDBACK_EVERY ticks (~100 ms), its RR every RR_EVERY feedbacks. */
const FEEDBACK_EVERY = 4;
const RR_EVERY = 10;
const NACK_TRIES = 3;
const MAX_MISSING = 100;
/** At most this many sequence numbers in one transport-cc feedback (older ones are skipped). */
const MAX_TCC_SPAN = 2000;

interface RecvStream {
  ssrc: number;
  clockRate: number;
  nack: boolean;
  baseExt: number;
  maxExt: number;
  received: number;
  expectedPrior: number;
  receivedPrior: number;
  jitter: number;
  lastTransit: number | undefined;
  lsr: number;
  srAtMs: number;
  /** Missing extended sequence numbers → NACKs sent so far. */
  missing: Map<number, number>;
}

/** Extends a 16-bit sequence number to the one closest to `ref` (an extended number). */
export function unwrapSeq(seq: number, ref: number): number {
  let ext = (ref & ~0xffff) | seq;
  if (ext - ref > 0x8000) ext -= 0x10000;
  else if (ref - ext > 0x8000) ext += 0x10000;
  return ext;
}

export class ChromeFeedback {
  /** Counters, for tests and stats. */
  sent = {
    tcc: 0,
    tccReported: 0,
    tccMissing: 0,
    rr: 0,
    nack: 0,
    nackedPackets: 0,
    rtxRecovered: 0,
    sendErrors: 0,
  };
  rtxReceived = 0;
  tccExtId: number | undefined;
  private readonly senderSsrc = 1 + Math.floor(Math.random() * 0xfffffff0);
  private readonly send: (packet: Buffer) => boolean;
  private readonly streams = new Map<number, RecvStream>();
  /** RTX SSRC → the stream it repairs. */
  private readonly rtx = new Map<number, RecvStream>();
  private tccSeqs: number[] = [];
  private tccTicks: number[] = [];
  private tccMax = -1;
  /** Next extended transport-wide sequence number to report. */
  private tccNext = -1;
  private fbCount = 0;
  private ticks = 0;
  private mediaSsrc = 0;

  constructor(send: (packet: Buffer) => boolean) {
    this.send = send;
  }

  /** `nack`: the codec negotiated NACK (Chrome asks for video only; Opus has none). */
  addStream(ssrc: number, clockRate: number, opts: { nack: boolean; rtxSsrc?: number }): void {
    const s: RecvStream = {
      ssrc,
      clockRate,
      nack: opts.nack,
      baseExt: -1,
      maxExt: -1,
      received: 0,
      expectedPrior: 0,
      receivedPrior: 0,
      jitter: 0,
      lastTransit: undefined,
      lsr: 0,
      srAtMs: 0,
      missing: new Map(),
    };
    this.streams.set(ssrc, s);
    if (opts.rtxSsrc !== undefined) this.rtx.set(opts.rtxSsrc, s);
    if (this.mediaSsrc === 0) this.mediaSsrc = ssrc;
  }

  onRtp(p: Buffer, nowMs: number): void {
    if (p.length < 12) return;
    if (this.tccExtId !== undefined) {
      const seq = transportWideSeq(p, this.tccExtId);
      if (seq >= 0) {
        const ext = this.tccMax < 0 ? seq + 0x10000 : unwrapSeq(seq, this.tccMax);
        if (this.tccNext < 0) this.tccNext = ext;
        if (ext >= this.tccNext) {
          if (ext > this.tccMax) this.tccMax = ext;
          this.tccSeqs.push(ext);
          this.tccTicks.push(Math.round(nowMs * TICKS_PER_MS));
        }
      }
    }
    const ssrc = p.readUInt32BE(8);
    const s = this.streams.get(ssrc);
    if (s) {
      this.onMedia(s, p, nowMs);
      return;
    }
    const repaired = this.rtx.get(ssrc);
    if (repaired) {
      this.rtxReceived++;
      const off = rtpPayloadOffset(p);
      if (off < 0 || off + 2 > p.length || repaired.maxExt < 0) return; // padding only
      // Recovered: counts as received in the RR, as libwebrtc's receive statistics do.
      if (repaired.missing.delete(unwrapSeq(p.readUInt16BE(off), repaired.maxExt))) {
        this.sent.rtxRecovered++;
        repaired.received++;
      }
    }
  }

  private onMedia(s: RecvStream, p: Buffer, nowMs: number): void {
    const seq = p.readUInt16BE(2);
    const ext = s.maxExt < 0 ? seq + 0x10000 : unwrapSeq(seq, s.maxExt);
    if (s.maxExt < 0) {
      s.baseExt = ext;
      s.maxExt = ext;
    } else if (ext > s.maxExt && s.nack) {
      for (let m = Math.max(s.maxExt + 1, ext - MAX_MISSING); m < ext; m++) {
        if (s.missing.size >= MAX_MISSING) s.missing.delete(s.missing.keys().next().value!);
        s.missing.set(m, 0);
      }
      s.maxExt = ext;
    } else if (ext > s.maxExt) {
      s.maxExt = ext;
    } else {
      s.missing.delete(ext); // late or reordered
    }
    s.received++;
    // RFC 3550 A.8 interarrival jitter, in RTP clock units.
    const transit = (nowMs * s.clockRate) / 1000 - p.readUInt32BE(4);
    if (s.lastTransit !== undefined) {
      let d = Math.abs(transit - s.lastTransit);
      if (d > 0x80000000) d = Math.abs(d - 0x100000000); // timestamp wrap
      s.jitter += (d - s.jitter) / 16;
    }
    s.lastTransit = transit;
  }

  /** The highest 16-bit sequence number received on a media SSRC, -1 before any. */
  highestSeq(ssrc: number): number {
    const s = this.streams.get(ssrc);
    return s && s.maxExt >= 0 ? s.maxExt & 0xffff : -1;
  }

  onRtcp(p: Buffer, nowMs: number): void {
    forEachSenderReport(p, (ssrc, ntpMid) => {
      const s = this.streams.get(ssrc);
      if (!s) return;
      s.lsr = ntpMid;
      s.srAtMs = nowMs;
    });
  }

  /** Called every TICK_MS by the shared ticker; `slot` spreads the bots over the ticks. */
  tick(nowMs: number, slot: number): void {
    if (this.ticks++ % FEEDBACK_EVERY !== slot % FEEDBACK_EVERY) return;
    const parts: Buffer[] = [];
    const tcc = this.transportCc();
    if (tcc) parts.push(tcc);
    for (const s of this.streams.values()) {
      const nack = this.nack(s);
      if (nack) parts.push(nack);
    }
    if (++this.fbCount % RR_EVERY === slot % RR_EVERY) {
      const blocks = [...this.streams.values()]
        .filter((s) => s.maxExt >= 0)
        .map((s) => this.reportBlock(s, nowMs));
      if (blocks.length > 0) {
        parts.unshift(buildReceiverReport(this.senderSsrc, blocks));
        this.sent.rr++;
      }
    }
    if (parts.length === 0) return;
    try {
      if (!this.send(parts.length === 1 ? parts[0]! : Buffer.concat(parts))) this.sent.sendErrors++;
    } catch {
      this.sent.sendErrors++;
    }
  }

  /** Everything received since the previous feedback, as one transport-cc packet. */
  private transportCc(): Buffer | undefined {
    if (this.tccSeqs.length === 0) return undefined;
    const seqs = this.tccSeqs;
    const ticks = this.tccTicks;
    this.tccSeqs = [];
    this.tccTicks = [];
    const base = Math.max(this.tccNext, this.tccMax - MAX_TCC_SPAN + 1);
    const arrivals: (number | undefined)[] = new Array<number | undefined>(this.tccMax - base + 1);
    let first = -1;
    for (let i = 0; i < seqs.length; i++) {
      const k = seqs[i]! - base;
      if (k < 0 || arrivals[k] !== undefined) continue;
      arrivals[k] = ticks[i]!;
      if (first < 0 || k < first) first = k;
    }
    this.tccNext = this.tccMax + 1;
    if (first < 0) return undefined;
    let got = 0;
    for (let k = first; k < arrivals.length; k++) if (arrivals[k] !== undefined) got++;
    this.sent.tccReported += arrivals.length - first;
    this.sent.tccMissing += arrivals.length - first - got;
    this.sent.tcc++;
    return buildTransportCc({
      senderSsrc: this.senderSsrc,
      mediaSsrc: this.mediaSsrc,
      baseSeq: (base + first) & 0xffff,
      fbCount: this.sent.tcc - 1,
      arrivals: first === 0 ? arrivals : arrivals.slice(first),
    });
  }

  private nack(s: RecvStream): Buffer | undefined {
    if (s.missing.size === 0) return undefined;
    const seqs: number[] = [];
    for (const [m, tries] of s.missing) {
      seqs.push(m);
      if (tries + 1 >= NACK_TRIES) s.missing.delete(m);
      else s.missing.set(m, tries + 1);
    }
    this.sent.nack++;
    this.sent.nackedPackets += seqs.length;
    return buildNack(this.senderSsrc, s.ssrc, seqs);
  }

  private reportBlock(s: RecvStream, nowMs: number): ReportBlock {
    const expected = s.maxExt - s.baseExt + 1;
    const expectedInterval = expected - s.expectedPrior;
    const receivedInterval = s.received - s.receivedPrior;
    s.expectedPrior = expected;
    s.receivedPrior = s.received;
    const lostInterval = expectedInterval - receivedInterval;
    return {
      ssrc: s.ssrc,
      fractionLost:
        expectedInterval > 0 && lostInterval > 0
          ? Math.floor((lostInterval * 256) / expectedInterval)
          : 0,
      cumulativeLost: expected - s.received,
      extHighestSeq: (s.maxExt - 0x10000) >>> 0,
      jitter: s.jitter,
      lsr: s.lsr,
      dlsr: s.lsr === 0 ? 0 : ((nowMs - s.srAtMs) * 65536) / 1000,
    };
  }
}

/** One shared timer for every bot's feedback (a thousand bots cost one timer). */
class FeedbackTicker {
  private readonly entries = new Map<ChromeFeedback, number>();
  private timer: NodeJS.Timeout | undefined;
  private nextSlot = 0;

  add(fb: ChromeFeedback): () => void {
    this.entries.set(fb, this.nextSlot++);
    this.timer ??= setInterval(() => {
      const now = performance.now();
      for (const [f, slot] of this.entries) f.tick(now, slot);
    }, TICK_MS);
    return () => {
      this.entries.delete(fb);
      if (this.entries.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }
}
export const feedbackTicker = new FeedbackTicker();
