import { setTimeout as sleep } from 'node:timers/promises';
import type { Participant } from './browser.ts';

// What a page's remote video does over time, read from the page (the network fault tests):
// ICE restarts, key frames, frames decoded and frozen stretches.

declare global {
  interface Window {
    /** Every distinct remote ICE ufrag each RTCPeerConnection was given, per connection. */
    __ufrags?: Set<string>[];
    /** Every RTCPeerConnection the page made (for its inbound video stats). */
    __pcs?: RTCPeerConnection[];
  }
}

/** Records the remote ICE ufrags each RTCPeerConnection sees: a second one is an ICE restart. */
export async function recordIceUfrags(p: Participant): Promise<void> {
  await p.context.addInitScript(() => {
    const all: Set<string>[] = [];
    window.__ufrags = all;
    const pcs: RTCPeerConnection[] = [];
    window.__pcs = pcs;
    window.RTCPeerConnection = new Proxy(window.RTCPeerConnection, {
      construct(target, args: ConstructorParameters<typeof RTCPeerConnection>) {
        const pc = new target(...args);
        const ufrags = new Set<string>();
        all.push(ufrags);
        pcs.push(pc);

        const setRemote = pc.setRemoteDescription.bind(pc);
        pc.setRemoteDescription = (desc?: RTCSessionDescriptionInit) => {
          for (const m of (desc?.sdp ?? '').matchAll(/a=ice-ufrag:(\S+)/g)) ufrags.add(m[1]!);
          return setRemote(desc as RTCSessionDescriptionInit);
        };
        return pc;
      },
    });
  });
}

/** The receiver's inbound video so far: key frames asked for (PLI, FIR) and decoded. */
export async function keyFrames(
  p: Participant,
): Promise<{ pli: number; fir: number; keys: number }> {
  return p.page.evaluate(async () => {
    const out = { pli: 0, fir: 0, keys: 0 };
    for (const pc of window.__pcs ?? []) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((s: Record<string, unknown>) => {
        if (s['type'] !== 'inbound-rtp' || s['kind'] !== 'video') return;
        out.pli += Number(s['pliCount'] ?? 0);
        out.fir += Number(s['firCount'] ?? 0);
        out.keys += Number(s['keyFramesDecoded'] ?? 0);
      });
    }
    return out;
  });
}

/** Frames decoded and width of the first remote video. */
export async function video(p: Participant): Promise<{ frames: number; width: number }> {
  const [v] = await p.videos();
  return { frames: v?.frames ?? 0, width: v?.width ?? 0 };
}

export interface Sample {
  at: number;
  frames: number;
  width: number;
}

/** Frames per second over the last second before each sample (from the second sample on). */
export function frameRates(
  samples: readonly Sample[],
): { at: number; fps: number; width: number }[] {
  return samples.flatMap((s, i) => {
    const from = samples.slice(0, i).findLast((o) => s.at - o.at >= 1000);
    return from
      ? [{ at: s.at, fps: ((s.frames - from.frames) * 1000) / (s.at - from.at), width: s.width }]
      : [];
  });
}

/** Samples every 250 ms while `until` is false (or timeoutMs passes); longest frozen stretch. */
export async function watchFrames(
  p: Participant,
  until: (v: { frames: number; width: number }) => boolean,
  timeoutMs: number,
): Promise<{ done: boolean; longestFreezeMs: number; widths: number[]; samples: Sample[] }> {
  const deadline = Date.now() + timeoutMs;
  let last = await video(p);
  let lastChange = Date.now();
  let longestFreezeMs = 0;
  const widths = new Set<number>();
  /** Every sample, in order (width 0: the element switching resolution). */
  const samples: Sample[] = [];
  for (;;) {
    await sleep(250);
    const now = await video(p);
    samples.push({ at: Date.now(), ...now });
    if (now.width > 0) widths.add(now.width); // 0 while the element switches resolution
    if (now.frames !== last.frames) lastChange = Date.now();
    longestFreezeMs = Math.max(longestFreezeMs, Date.now() - lastChange);
    last = now;
    if (until(now)) return { done: true, longestFreezeMs, widths: [...widths], samples };
    if (Date.now() > deadline)
      return { done: false, longestFreezeMs, widths: [...widths], samples };
  }
}
