/**
 * The page's first module (its own `<script type=module>` in index.html, ahead of the app,
 * see vite.config.ts; main.ts imports it too, so the dev server runs it first as well). It
 * has no imports: it runs as soon as its few hundred bytes arrive, before the Svelte runtime
 * and the app's chunks are evaluated, and opens the signaling socket then, asking for the
 * lobby (`lobby.subscribe`) the moment it is open. The app adopts that socket and that answer
 * (lib/earlySocket.ts) instead of opening its own: a shared link's join no longer waits for
 * the socket behind the app's start-up. A room link also starts its DTLS certificate here.
 */
import type { ResponseMap } from '@tutti/protocol';

/** What arrives before the app adopts the socket: protoo frames, parsed, in order. */
export type BootFrame = Record<string, unknown>;

export interface EarlySocket {
  readonly ws: WebSocket;
  readonly url: string;
  /**
   * The answer to the `lobby.subscribe` sent on open; rejects if the socket closed first or
   * the server refused. Taken once (the first lobby of the page).
   */
  readonly lobby: Promise<ResponseMap['lobby.subscribe']>;
  /**
   * Hands every later frame to `sink`, first those that came meanwhile. The socket's
   * `close` is the adopter's from now on too (boot only watches it for the lobby answer).
   */
  adopt(sink: (frame: BootFrame) => void): void;
}

/** How long the early lobby answer may take (the app's own requests wait 20 s as well). */
const LOBBY_TIMEOUT_MS = 20_000;

export function signalingUrl(): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/ws`;
}

/** bench:join's 'short-late-socket': the app opens its own socket (as before boot.ts). */
function lateSocket(): boolean {
  try {
    return localStorage.getItem('tutti.joinPath') === 'short-late-socket';
  } catch {
    return false;
  }
}

/** Not in a page (Node runs lib/signaling.ts in the resume tests): nothing is started. */
const inPage = typeof location !== 'undefined' && typeof document !== 'undefined';

function open(): EarlySocket | null {
  if (!inPage || typeof WebSocket === 'undefined' || lateSocket()) return null;
  const url = signalingUrl();
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, 'protoo');
  } catch {
    return null; // The app's own transport tries again (and reports).
  }
  const id = Math.round(Math.random() * 10_000_000);
  const held: BootFrame[] = [];
  let sink: ((frame: BootFrame) => void) | null = null;
  let settle: { ok: (v: ResponseMap['lobby.subscribe']) => void; no: (e: Error) => void };
  const lobby = new Promise<ResponseMap['lobby.subscribe']>((ok, no) => (settle = { ok, no }));
  lobby.catch(() => undefined); // Nobody may ever take it (the app falls back).
  const timer = setTimeout(
    () => settle.no(new Error('TIMEOUT: lobby.subscribe')),
    LOBBY_TIMEOUT_MS,
  );
  ws.addEventListener('open', () => {
    try {
      ws.send(JSON.stringify({ request: true, id, method: 'lobby.subscribe', data: {} }));
    } catch (err) {
      settle.no(err instanceof Error ? err : new Error(String(err)));
    }
  });
  ws.addEventListener('close', () => {
    clearTimeout(timer);
    settle.no(new Error('INTERNAL: the socket closed before the lobby answered'));
  });
  ws.addEventListener('message', (ev: MessageEvent) => {
    let frame: unknown;
    try {
      frame = typeof ev.data === 'string' ? JSON.parse(ev.data) : null;
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return;
    const f = frame as BootFrame;
    if (f['response'] === true && f['id'] === id) {
      clearTimeout(timer);
      if (f['ok'] === true)
        settle.ok((f['data'] ?? { rooms: [] }) as ResponseMap['lobby.subscribe']);
      else settle.no(new Error(String(f['errorReason'] ?? 'lobby.subscribe failed')));
      return;
    }
    if (sink) sink(f);
    else held.push(f);
  });
  return {
    ws,
    url,
    lobby,
    adopt(next) {
      sink = next;
      for (const f of held.splice(0)) next(f);
    },
  };
}

let early: EarlySocket | null = open();

/**
 * The socket opened at boot, once, to a caller that wants that URL (a later caller — a
 * reconnect — or one for another URL opens its own).
 */
export function takeEarlySocket(url: string): EarlySocket | null {
  if (early?.url !== url) return null;
  const taken = early;
  early = null;
  return taken;
}

/**
 * A shared link (#/room/<id>) joins as soon as it can: its DTLS certificate (ECDSA P-256, what
 * lib/media/certificate.ts would make) is generated now, in the browser's background.
 */
let certificate: Promise<RTCCertificate | null> | null =
  inPage &&
  /^#\/room\//.test(location.hash) &&
  !lateSocket() &&
  typeof RTCPeerConnection !== 'undefined' &&
  typeof RTCPeerConnection.generateCertificate === 'function'
    ? RTCPeerConnection.generateCertificate({
        name: 'ECDSA',
        namedCurve: 'P-256',
      } as EcKeyGenParams).catch(() => null)
    : null;

/** The certificate started at boot, once (null: none was started). */
export function takeEarlyCertificate(): Promise<RTCCertificate | null> | null {
  const taken = certificate;
  certificate = null;
  return taken;
}
