import type { Signaling } from '../signaling.ts';
import { describe } from './errors.ts';
import { iceSummary } from './iceStats.ts';
import type { Transport } from './types.ts';

/** What a transport's ICE watch reports to its owner. */
export interface IceWatchEvents {
  error(message: string): void;
  /** ICE never started, not even after a restart: the transport must be built anew. */
  stalled(): void;
}

/** How long ICE may stay 'new' once the transport has its first m-line (checks take < 0.3 s). */
export const ICE_START_MS = 2000;

/**
 * Restarts ICE (`media.restartIce`) when the transport fails, or stays disconnected for
 * 5 s; one restart at a time. Also when its checks never begin: a loaded Chromium once
 * left a recv PeerConnection 'new' after its answer for good (its later send PC connected),
 * so `started()` — called when the transport gets its first m-line — arms a watch: still
 * 'new' ICE_START_MS later, ICE restarts; still 'new' as long after that, `stalled`.
 * Under the 'all' policy, a transport with no local candidate at all by then is `stalled`
 * at once: host candidates come from the machine's own interfaces within milliseconds, so
 * none means that PeerConnection's port allocator never started (the CI stall), and an ICE
 * restart keeps the same allocator. Relay-only ICE waits on TURN, which may just be slow.
 */
export function restartIceWhenStuck(
  transport: Transport,
  signaling: Signaling,
  events: IceWatchEvents,
  policy: RTCIceTransportPolicy,
): { started(): void } {
  let restarting = false;
  let disconnectedTimer: ReturnType<typeof setTimeout> | undefined;
  let startTimer: ReturnType<typeof setTimeout> | undefined;
  const restartIce = (): void => {
    if (restarting || transport.closed) return;
    restarting = true;
    signaling
      .request('media.restartIce', { transportId: transport.id })
      .then(({ iceParameters }) => transport.restartIce({ iceParameters }))
      .catch((err: unknown) => {
        if (!transport.closed) events.error(`ICE restart failed: ${describe(err)}`);
      })
      .finally(() => {
        restarting = false;
      });
  };
  const stillNew = (): boolean => !transport.closed && transport.connectionState === 'new';
  transport.on('connectionstatechange', (state) => {
    clearTimeout(disconnectedTimer);
    if (state !== 'new') clearTimeout(startTimer);
    if (state === 'failed') restartIce();
    // 'disconnected' often heals by itself; restart ICE if it lasts.
    else if (state === 'disconnected') disconnectedTimer = setTimeout(restartIce, 5000);
  });
  // Why the watch fired, for whoever reads the console (and the e2e logs).
  const warn = (ice: Record<string, string | number>, doing: string): void =>
    console.warn(`tutti: ${transport.direction} ICE not started ${JSON.stringify(ice)}, ${doing}`);
  const rebuildLater = (): void => {
    startTimer = setTimeout(() => {
      if (!stillNew()) return;
      void iceSummary(transport).then((ice) => warn(ice, 'asking for a rebuild'));
      events.stalled();
    }, ICE_START_MS);
  };
  const firstLook = async (): Promise<void> => {
    const ice = await iceSummary(transport);
    if (!stillNew()) return;
    if (policy === 'all' && noLocalCandidate(ice)) {
      warn(ice, 'no local candidate: asking for a rebuild');
      events.stalled();
      return;
    }
    warn(ice, 'restarting ICE');
    restartIce();
    rebuildLater();
  };
  return {
    started() {
      if (startTimer !== undefined) return;
      startTimer = setTimeout(() => {
        if (stillNew()) void firstLook();
      }, ICE_START_MS);
    },
  };
}

/** Stats that could be read and list no local candidate (unreadable stats prove nothing). */
const noLocalCandidate = (ice: Record<string, string | number>): boolean =>
  ice['stats'] !== 'unavailable' && !Object.keys(ice).some((k) => k.startsWith('local-candidate:'));

/** Resolves once the transport is connected (or failed/closed), at most after timeoutMs. */
export function untilConnected(transport: Transport | null, timeoutMs: number): Promise<void> {
  return untilState(transport, CONNECTION, timeoutMs, (s) => s === 'connected' || s === 'failed');
}

/**
 * Resolves once the transport's ICE checks are under way (its state left 'new'), at most
 * after timeoutMs. Chromium starts gathering a new RTCPeerConnection's candidates only after
 * a few main-thread turns (its port allocator waits for the page's media-permission answer),
 * so a long task right after the PC's answer — building another PC — holds ICE back.
 */
export function untilChecking(transport: Transport | null, timeoutMs: number): Promise<void> {
  return untilState(transport, CONNECTION, timeoutMs, (state) => state !== 'new');
}

/** One of the transport's state machines: the event that tells its changes, and its value now. */
interface StateOf {
  readonly event: 'connectionstatechange' | 'icegatheringstatechange';
  read(transport: Transport): string;
}
const CONNECTION: StateOf = { event: 'connectionstatechange', read: (t) => t.connectionState };

function untilState(
  transport: Transport | null,
  of: StateOf,
  timeoutMs: number,
  reached: (state: string) => boolean,
): Promise<void> {
  if (!transport || transport.closed || reached(of.read(transport))) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      transport.off(of.event, onState);
      resolve();
    };
    // 'closed' is only a connection state; a closed transport ends a gathering wait too.
    const onState = (state: string): void => {
      if (reached(state) || state === 'closed' || transport.closed) done();
    };
    const timer = setTimeout(done, timeoutMs);
    transport.on(of.event, onState);
  });
}
