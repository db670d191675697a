/**
 * bench:join's page side: a script that runs in the page before any of its own and records,
 * in `performance.now()` time (from navigation start), where a join spends its time — the
 * signaling socket (every protoo request's send and answer, the server's requests), the
 * RTCPeerConnections (created, connected: ICE + DTLS done), the first RTP of every remote
 * stream and the first decoded frame of every remote video.
 */

export interface PageMarks {
  /** The lobby's room was clicked (the "click" figure's start). */
  click: number | null;
  wsCreated: number | null;
  wsOpen: number | null;
  /** WebSockets the page created (one per page load, the lobby's reused by the room). */
  wsCount: number;
  /** The app's first element in #app (the Svelte runtime and the app's chunk evaluated). */
  app: number | null;
  /** method → first time sent / answered (ours), or received (the server's requests). */
  sent: Record<string, number>;
  answered: Record<string, number>;
  received: Record<string, number>;
  pc: number | null;
  connected: number | null;
  track: number | null;
  joined: number | null;
  /** Per remote stream (track id): its first RTP packet, estimated from inbound-rtp stats. */
  firstRtp: Record<string, { kind: string; at: number }>;
  /** Per remote video: first decoded frame, and when that frame's last packet arrived. */
  frames: { at: number; receiveTime: number | null }[];
  frame: number | null;
  /**
   * The receive RTCPeerConnection (the first given a remote offer): when it was created,
   * its offer and answer applied, ICE checking / connected and DTLS connected as the main
   * thread saw them.
   */
  recv: {
    created: number | null;
    srd: number | null;
    sld: number | null;
    candidate: number | null;
    checking: number | null;
    iceConnected: number | null;
    dtlsConnected: number | null;
  };
  /** Long main-thread tasks (PerformanceObserver 'longtask'): start and duration, ms. */
  longTasks: [number, number][];
  /** The last capability-probe offer before the join (Device.load's native capabilities). */
  probeDone: number | null;
  /** getUserMedia: first call and first answer. */
  gum: { called: number | null; resolved: number | null };
  dcl?: number;
}

/** The page script: `opts` are localStorage settings for the client. */
export function pageHook(opts: { noLocalMedia: boolean; joinPath: Path }): string {
  return `
(() => {
  try {
    localStorage.setItem('tutti.nickname', 'bench-joiner');
    localStorage.setItem('tutti.joinPath', ${JSON.stringify(opts.joinPath)});
    ${opts.noLocalMedia ? "localStorage.setItem('tutti.autoMedia', 'off');" : ''}
  } catch {}
  const now = () => performance.now();
  const marks = { click: null, wsCreated: null, wsOpen: null, wsCount: 0, app: null, sent: {}, answered: {}, received: {},
    pc: null, connected: null, track: null, joined: null, firstRtp: {}, frames: [], frame: null,
    recv: { created: null, srd: null, sld: null, candidate: null, checking: null, iceConnected: null, dtlsConnected: null },
    longTasks: [], gum: { called: null, resolved: null }, probeDone: null };
  window.__benchMarks = marks;
  const first = (obj, key) => { if (obj[key] === undefined) obj[key] = now(); };
  // The signaling socket: protoo JSON frames, requests matched to answers by id.
  const NativeWs = window.WebSocket;
  window.WebSocket = class extends NativeWs {
    constructor(...a) {
      super(...a);
      if (marks.wsCreated === null) marks.wsCreated = now();
      marks.wsCount++;
      const pending = new Map();
      this.addEventListener('open', () => { if (marks.wsOpen === null) marks.wsOpen = now(); });
      const send = this.send.bind(this);
      this.send = (text) => {
        try {
          const m = JSON.parse(text);
          if (m.request) { pending.set(m.id, m.method); first(marks.sent, m.method); }
        } catch {}
        return send(text);
      };
      this.addEventListener('message', (ev) => {
        try {
          const m = JSON.parse(ev.data);
          if (m.response && pending.has(m.id)) { first(marks.answered, pending.get(m.id)); pending.delete(m.id); }
          else if (m.request) first(marks.received, m.method);
        } catch {}
      });
    }
  };
  // First RTP of a remote stream: inbound-rtp stats polled every 10 ms; Chromium caches a
  // report up to ~50 ms, so the first packet is back-dated from the last one's timestamp
  // (audio: 20 ms per packet; video: its first frame's receive time is used as well).
  const watchRtp = (receiver, track) => {
    const t0 = now();
    const poll = async () => {
      if (now() - t0 > 15000) return;
      try {
        const report = await receiver.getStats();
        for (const s of report.values()) {
          if (s.type !== 'inbound-rtp' || !(s.packetsReceived > 0)) continue;
          const last = (s.lastPacketReceivedTimestamp ?? Date.now()) - performance.timeOrigin;
          const back = track.kind === 'audio' ? (s.packetsReceived - 1) * 20 : 0;
          marks.firstRtp[track.id] = { kind: track.kind, at: Math.max(t0, last - back) };
          return;
        }
      } catch {}
      setTimeout(poll, 10);
    };
    void poll();
  };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) marks.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch {}
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const gum = md.getUserMedia.bind(md);
    md.getUserMedia = (c) => {
      if (marks.gum.called === null) marks.gum.called = now();
      const p = gum(c);
      p.then(() => { if (marks.gum.resolved === null) marks.gum.resolved = now(); }, () => {});
      return p;
    };
  }
  const NativePc = window.RTCPeerConnection;
  if (NativePc) {
    let recvPc = null;
    const created = new WeakMap();
    const watchRecv = (pc) => {
      const r = marks.recv;
      r.created = created.get(pc) ?? null;
      pc.addEventListener('icecandidate', (e) => {
        if (e.candidate && r.candidate === null) { r.candidate = now(); window.__benchCand = e.candidate.candidate; }
      });
      pc.addEventListener('icegatheringstatechange', () => { (window.__benchGather ??= []).push([pc.iceGatheringState, now()]); });
      pc.addEventListener('iceconnectionstatechange', () => {
        if (pc.iceConnectionState === 'checking' && r.checking === null) r.checking = now();
        if ((pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') && r.iceConnected === null) r.iceConnected = now();
      });
      pc.addEventListener('connectionstatechange', () => {
        if (pc.connectionState === 'connected' && r.dtlsConnected === null) r.dtlsConnected = now();
      });
    };
    const srd = NativePc.prototype.setRemoteDescription;
    NativePc.prototype.setRemoteDescription = function (d, ...rest) {
      const mine = d && d.type === 'offer' && (recvPc === null ? ((recvPc = this), watchRecv(this), true) : recvPc === this);
      const p = srd.call(this, d, ...rest);
      if (mine) p.then(() => { if (marks.recv.srd === null) marks.recv.srd = now(); }, () => {});
      return p;
    };
    // The capability probe: the first RTCPeerConnections' offers (they never get an answer).
    const co = NativePc.prototype.createOffer;
    NativePc.prototype.createOffer = function (...a) {
      const p = co.apply(this, a);
      if (recvPc === null) p.then(() => { marks.probeDone = now(); }, () => {});
      return p;
    };
    const sld = NativePc.prototype.setLocalDescription;
    NativePc.prototype.setLocalDescription = function (...a) {
      const p = sld.apply(this, a);
      if (this === recvPc) p.then(() => { if (marks.recv.sld === null) marks.recv.sld = now(); }, () => {});
      return p;
    };
    window.RTCPeerConnection = class extends NativePc {
      constructor(...a) {
        super(...a);
        created.set(this, now());
        (window.__benchPcs ??= []).push([now(), JSON.stringify(a[0] ?? {}).slice(0, 200)]);
        if (marks.pc === null) marks.pc = now();
        this.addEventListener('connectionstatechange', () => {
          if (this.connectionState === 'connected' && marks.connected === null) marks.connected = now();
        });
        this.addEventListener('track', (e) => {
          if (e.track.kind === 'video' && marks.track === null) marks.track = now();
          watchRtp(e.receiver, e.track);
        });
      }
    };
  }
  document.addEventListener('click', (e) => {
    if (marks.click === null && e.target instanceof Element && e.target.closest('[data-testid="room-item"]')) {
      marks.click = now();
      performance.mark('bench:click'); // joinTrace.ts: the click in the trace's clock
    }
  }, true);
  const seen = new WeakSet();
  // Only the added subtrees are searched: querying the whole document on every mutation
  // batch cost the page tens of ms of main thread during a join (the measurement's own load).
  const check = (mutations) => {
    if (marks.app === null && document.getElementById('app')?.firstElementChild) marks.app = now();
    const roots = [];
    for (const m of mutations) for (const n of m.addedNodes) if (n instanceof Element) roots.push(n);
    const find = (sel) => roots.flatMap((r) => [...(r.matches(sel) ? [r] : []), ...r.querySelectorAll(sel)]);
    if (marks.joined === null && find('[data-testid="leave-room"]').length) marks.joined = now();
    for (const v of find('video[data-testid="remote-video"]')) {
      if (seen.has(v)) continue;
      seen.add(v);
      const onFrame = (_t, meta) => {
        const at = now();
        marks.frames.push({ at, receiveTime: meta && typeof meta.receiveTime === 'number' ? meta.receiveTime : null });
        if (marks.frame === null) marks.frame = at;
      };
      if (typeof v.requestVideoFrameCallback === 'function') v.requestVideoFrameCallback(onFrame);
      else v.addEventListener('resize', () => { if (v.videoWidth > 0) onFrame(0, null); }, { once: true });
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true });
})();
`;
}

/** The client's `tutti.joinPath` values (client/src/lib/storage.ts). */
export const JOIN_PATHS = [
  'classic',
  'short-connect',
  'short',
  'short-render-first',
  'short-late-socket',
] as const;
export type Path = (typeof JOIN_PATHS)[number];

/**
 * One join's phases, each the time from the figure's start (navigation, or the click) to
 * that point; NaN where a phase did not happen on this path.
 */
export function phasesOf(m: PageMarks, path: Path, start: number): Record<string, number> {
  const at = (t: number | null | undefined) => (t == null ? NaN : t - start);
  const join = m.answered['room.join'];
  const rtp = Object.values(m.firstRtp).map((r) => r.at);
  // Video: the first frame's last packet arrived at receiveTime (the key frame, which the
  // SFU forwards first); take the earlier of the two estimates per stream.
  const frameRtp = m.frames.map((f) => f.receiveTime).filter((t): t is number => t !== null);
  const videoRtp = Object.values(m.firstRtp)
    .filter((r) => r.kind === 'video')
    .map((r) => r.at);
  const audioRtp = Object.values(m.firstRtp)
    .filter((r) => r.kind === 'audio')
    .map((r) => r.at);
  const videos = videoRtp.length ? videoRtp.map((t, i) => Math.min(t, frameRtp[i] ?? t)) : frameRtp;
  const all = [...audioRtp, ...videos];
  const short = path !== 'classic';
  // Main-thread time in long tasks from the join's answer to the first frame.
  const [from, to] = [join ?? NaN, m.frame ?? NaN];
  const busy = m.longTasks.reduce(
    (sum, [s, d]) => sum + Math.max(0, Math.min(s + d, to) - Math.max(s, from)),
    0,
  );
  return {
    'WebSocket created': at(m.wsCreated),
    'app mounted': at(m.app),
    'WebSocket open': at(m.wsOpen),
    'lobby.subscribe answered': at(m.answered['lobby.subscribe']),
    'first RTCPeerConnection (probe)': at(m.pc),
    'probe offers done': at(m.probeDone),
    'room.join sent': at(m.sent['room.join']),
    'room.join answered': at(join),
    'router capabilities': short ? at(m.answered['lobby.subscribe']) : at(join),
    'recv transport created': short ? at(join) : at(m.answered['media.createTransport']),
    'first consumer offered': short ? at(join) : at(m.received['media.newConsumer']),
    'recv PC created': at(m.recv.created),
    'recv offer applied (SRD)': at(m.recv.srd),
    'recv answer applied (SLD)': at(m.recv.sld),
    'recv first local candidate (seen)': at(m.recv.candidate),
    'media.connectTransport answered': at(m.answered['media.connectTransport']),
    'ICE checking (seen)': at(m.recv.checking),
    'ICE connected (seen)': at(m.recv.iceConnected),
    'DTLS connected': at(m.connected),
    'first RTP (first stream)': rtp.length ? Math.min(...all) - start : NaN,
    'first RTP (every existing stream)': all.length ? Math.max(...all) - start : NaN,
    'first decoded frame': at(m.frame),
    'media.setConsumerPreferredLayers sent': at(m.sent['media.setConsumerPreferredLayers']),
    'media.produce sent': at(m.sent['media.produce']),
    'getUserMedia called': at(m.gum.called),
    'getUserMedia answered': at(m.gum.resolved),
    'long tasks, join answer → frame': Number.isFinite(from + to) ? busy : NaN,
  };
}
