import type { Track } from 'node-datachannel';
import { buildSenderReport } from './rtcp.ts';
import type { RtpStream } from './rtp.ts';

/** libwebrtc's RTCP report interval for video (audio's is longer; one interval for both here). */
export const SENDER_REPORT_INTERVAL_MS = 1000;

interface Entry {
  stream: RtpStream;
  track: Track;
  startedAt: number;
  /** When the next sender report is due (performance.now()). */
  nextReportAt: number;
}

/**
 * All publishers share one pacing timer (a few ms) so a thousand streams cost one timer. Each
 * stream also sends a sender report every SENDER_REPORT_INTERVAL_MS, as browsers do: with
 * them mediasoup can align the RTP timestamps of a simulcast producer's streams and so switch
 * a consumer between layers; without, a consumer stays on the first layer it got.
 */
class Pacer {
  private readonly streams = new Set<Entry>();
  private timer: NodeJS.Timeout | undefined;
  sendErrors = 0;
  senderReports = 0;

  add(stream: RtpStream, track: Track): () => void {
    const now = performance.now();
    const entry: Entry = { stream, track, startedAt: now, nextReportAt: now };
    this.streams.add(entry);
    this.timer ??= setInterval(() => this.tick(), 5);
    return () => {
      this.streams.delete(entry);
      if (this.streams.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private send(e: Entry, packet: Buffer): void {
    try {
      if (!e.track.sendMessageBinary(packet)) this.sendErrors++;
    } catch {
      this.sendErrors++;
    }
  }

  private tick(): void {
    const now = performance.now();
    for (const e of this.streams) {
      e.stream.pump(now - e.startedAt, (pkt) => this.send(e, pkt));
      if (now >= e.nextReportAt && e.stream.sentPackets > 0) {
        e.nextReportAt = now + SENDER_REPORT_INTERVAL_MS;
        this.senderReports++;
        this.send(e, senderReport(e, now));
      }
    }
  }
}

function senderReport(e: Entry, now: number): Buffer {
  const s = e.stream;
  return buildSenderReport({
    ssrc: s.ssrc,
    wallMs: performance.timeOrigin + now,
    rtpTimestamp: s.rtpTimestampAt(now - e.startedAt),
    packets: s.sentPackets,
    octets: s.sentBytes - 12 * s.sentPackets,
  });
}

export const pacer = new Pacer();
