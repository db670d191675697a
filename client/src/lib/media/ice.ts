import type { Signaling } from '../signaling.ts';
import { describe } from './errors.ts';
import type { Transport } from './types.ts';

/**
 * Restarts ICE (`media.restartIce`) when the transport fails, or stays disconnected for
 * 5 s; one restart at a time.
 */
export function restartIceWhenStuck(
  transport: Transport,
  signaling: Signaling,
  onError: (message: string) => void,
): void {
  let restarting = false;
  let disconnectedTimer: ReturnType<typeof setTimeout> | undefined;
  const restartIce = (): void => {
    if (restarting || transport.closed) return;
    restarting = true;
    signaling
      .request('media.restartIce', { transportId: transport.id })
      .then(({ iceParameters }) => transport.restartIce({ iceParameters }))
      .catch((err: unknown) => {
        if (!transport.closed) onError(`ICE restart failed: ${describe(err)}`);
      })
      .finally(() => {
        restarting = false;
      });
  };
  transport.on('connectionstatechange', (state) => {
    clearTimeout(disconnectedTimer);
    if (state === 'failed') restartIce();
    // 'disconnected' often heals by itself; restart ICE if it lasts.
    else if (state === 'disconnected') disconnectedTimer = setTimeout(restartIce, 5000);
  });
}

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
