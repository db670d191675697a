import type { Participant } from './browser.ts';

// What a page's remote video does over time, read from the page (the network fault tests):
// ICE restarts and frames decoded (the cap test has its own, in netcap.test.ts).

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

/** Frames decoded and width of the first remote video. */
export async function video(p: Participant): Promise<{ frames: number; width: number }> {
  const [v] = await p.videos();
  return { frames: v?.frames ?? 0, width: v?.width ?? 0 };
}
