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
  return untilState(transport, timeoutMs, (state) => state === 'connected' || state === 'failed');
}

/**
 * Resolves once the transport's ICE checks are under way (its state left 'new'), at most
 * after timeoutMs. Chromium starts gathering a new RTCPeerConnection's candidates only after
 * a few main-thread turns (its port allocator waits for the page's media-permission answer),
 * so a long task right after the PC's answer — building another PC — holds ICE back.
 */
export function untilChecking(transport: Transport | null, timeoutMs: number): Promise<void> {
  return untilState(transport, timeoutMs, (state) => state !== 'new');
}

function untilState(
  transport: Transport | null,
  timeoutMs: number,
  reached: (state: string) => boolean,
): Promise<void> {
  if (!transport || transport.closed || reached(transport.connectionState))
    return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      transport.off('connectionstatechange', onState);
      resolve();
    };
    const onState = (state: string): void => {
      if (reached(state) || state === 'closed') done();
    };
    const timer = setTimeout(done, timeoutMs);
    transport.on('connectionstatechange', onState);
  });
}

/**
 * Resolves once the transport's ICE gathering has left `new` (or after timeoutMs). Chromium
 * starts a receive PeerConnection's gathering at its answer (SLD; the candidate pool is
 * discarded then) and its port allocator needs one task on the page's main thread (its
 * DevTools throttling token) before it opens a socket; the `gathering` state change is
 * posted behind that task, so once it is seen, the allocator has what it needed and the
 * main thread may be taken for tens of ms (send PeerConnection, the room view's render).
 */
export function untilGathering(transport: Transport | null, timeoutMs: number): Promise<void> {
  if (!transport || transport.closed || transport.iceGatheringState !== 'new')
    return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      transport.off('icegatheringstatechange', onState);
      resolve();
    };
    const onState = (state: string): void => {
      if (state !== 'new') done();
    };
    const timer = setTimeout(done, timeoutMs);
    transport.on('icegatheringstatechange', onState);
  });
}
