import type { Logger } from '../kernel/log.ts';
import type { Drain } from './drain.ts';

export interface SignalOptions {
  drain: Drain;
  /** Stops the node now (rooms told room.closed 'shutdown', sockets, workers) and exits. */
  stopNow: (signal: NodeJS.Signals) => void;
  log: Logger;
}

/**
 * SIGTERM drains (docker stop, Kubernetes): no new peers, members asked to reconnect, then
 * the node stops once they have gone or the drain grace ends. SIGINT (Ctrl-C), a second
 * SIGTERM, or SIGTERM with `server.drainGraceSeconds` 0 stop it at once.
 *
 * Both listeners are prepended: they run before the ones mediasoup adds for every worker.
 * mediasoup's SIGTERM listener closes its worker at once, which would end every call on the
 * spot, so SIGTERM is kept for the drain: those listeners (and only those) are removed, now
 * and whenever a (re)spawned worker adds one; the workers close with the app when the drain
 * is over. Their SIGINT listeners stay.
 * (A signal sent to the whole process group still reaches the worker processes themselves.)
 */
export function handleSignals({ drain, stopNow, log }: SignalOptions): void {
  const onSigterm = (): void => {
    if (drain.graceMs === 0 || drain.draining) {
      stopNow('SIGTERM');
      return;
    }
    log.info({ signal: 'SIGTERM' }, 'draining before shutdown');
    void drain.begin().then((end) => {
      log.info({ end }, end === 'empty' ? 'every member left' : 'drain grace ended');
      stopNow('SIGTERM');
    });
  };
  process.prependListener('SIGINT', () => stopNow('SIGINT'));
  process.prependListener('SIGTERM', onSigterm);

  const keepSigtermForDrain = (): void => {
    const onSigint = process.listeners('SIGINT');
    for (const listener of process.listeners('SIGTERM')) {
      if (isMediasoupWorkerListener(listener, onSigint))
        process.removeListener('SIGTERM', listener);
    }
  };
  keepSigtermForDrain();
  process.on('newListener', (event) => {
    // Emitted before the listener is added: remove it right after.
    if (event === 'SIGTERM') queueMicrotask(keepSigtermForDrain);
  });
}

/** mediasoup's Worker listens to SIGINT and SIGTERM with one `onSignal` that closes it. */
function isMediasoupWorkerListener(
  listener: NodeJS.SignalsListener,
  sigintListeners: readonly NodeJS.SignalsListener[],
): boolean {
  return listener.name === 'onSignal' && sigintListeners.includes(listener);
}
