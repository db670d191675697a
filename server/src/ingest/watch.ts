/** How long a session may take to get ICE + DTLS up, and stay disconnected, before it ends. */
const CONNECT_TIMEOUT_MS = 30_000;
const DISCONNECTED_TIMEOUT_MS = 15_000;
const WATCH_EVERY_MS = 2_000;

/** ICE and DTLS state of a session's transport; undefined once it is gone. */
export type TransportState = { ice: string; dtls: string } | undefined;

/**
 * Watches a WHIP/WHEP session's transport and calls `end` once when ICE/DTLS never come up,
 * fail, or stay disconnected (an encoder or a viewer that just went away). Returns the timer
 * to clear when the session closes for another reason.
 */
export function watchTransport(
  state: () => Promise<TransportState>,
  end: (why: string) => void,
  isClosed: () => boolean,
): NodeJS.Timeout {
  const started = Date.now();
  let connected = false;
  let disconnectedSince: number | undefined;
  const timer = setInterval(() => {
    void state().then((s) => {
      if (isClosed()) return;
      const now = Date.now();
      if (s === undefined || s.dtls === 'failed' || s.dtls === 'closed') {
        return end('transport gone or DTLS failed');
      }
      if (s.dtls === 'connected') connected = true;
      if (!connected && now - started > CONNECT_TIMEOUT_MS) return end('never connected');
      if (s.ice === 'disconnected' || s.ice === 'closed') {
        disconnectedSince ??= now;
        if (now - disconnectedSince > DISCONNECTED_TIMEOUT_MS) end('ICE timed out');
      } else disconnectedSince = undefined;
    });
  }, WATCH_EVERY_MS);
  timer.unref();
  return timer;
}
