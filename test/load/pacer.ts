import type { Track } from 'node-datachannel';
import type { RtpStream } from './rtp.ts';

/** All publishers share one pacing timer (a few ms) so a thousand streams cost one timer. */
class Pacer {
  private readonly streams = new Set<{ stream: RtpStream; track: Track; startedAt: number }>();
  private timer: NodeJS.Timeout | undefined;
  sendErrors = 0;

  add(stream: RtpStream, track: Track): () => void {
    const entry = { stream, track, startedAt: performance.now() };
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

  private tick(): void {
    const now = performance.now();
    for (const e of this.streams) {
      e.stream.pump(now - e.startedAt, (pkt) => {
        try {
          if (!e.track.sendMessageBinary(pkt)) this.sendErrors++;
        } catch {
          this.sendErrors++;
        }
      });
    }
  }
}
export const pacer = new Pacer();
