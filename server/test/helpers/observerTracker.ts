import * as mediasoup from 'mediasoup';
import type { Producer, Router, Worker } from 'mediasoup/types';

/** Install before starting the server (like mediaTracker) so its workers are seen. */
export interface ObserverTracker {
  /** One entry per RTP observer made (ActiveSpeaker, AudioLevel): its router, its producers. */
  seen: { router: Router; producers: Set<Producer> }[];
  stop(): void;
}

/** Which producers each RTP observer (speaker, levels) listens to, and on which router. */
export function trackObservers(): ObserverTracker {
  const seen: { router: Router; producers: Set<Producer> }[] = [];
  const onWorker = (worker: Worker) =>
    worker.observer.on('newrouter', (router) =>
      router.observer.on('newrtpobserver', (o) => {
        const entry = { router, producers: new Set<Producer>() };
        seen.push(entry);
        o.observer.on('addproducer', (p) => entry.producers.add(p));
        o.observer.on('removeproducer', (p) => entry.producers.delete(p));
      }),
    );
  mediasoup.observer.on('newworker', onWorker);
  return { seen, stop: () => mediasoup.observer.off('newworker', onWorker) };
}
