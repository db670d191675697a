import * as mediasoup from 'mediasoup';
import type { Consumer, Producer, Router, Transport, Worker } from 'mediasoup/types';

/**
 * Counts the mediasoup objects that are still open, through mediasoup's observer API (the
 * server runs in the test process). Install it *before* starting the server so the worker
 * is seen. Leak tests assert that everything a peer had is closed once it is gone.
 */
export interface MediaTracker {
  routers: Set<Router>;
  transports: Set<Transport>;
  producers: Set<Producer>;
  consumers: Set<Consumer>;
  /** Open transports/producers whose appData.peerId is `peerId`. */
  ofPeer(peerId: string): { transports: Transport[]; producers: Producer[] };
  stop(): void;
}

interface Closable {
  observer: { once(event: 'close', listener: () => void): unknown };
}

function track<T extends Closable>(set: Set<T>, obj: T): void {
  set.add(obj);
  obj.observer.once('close', () => set.delete(obj));
}

export function trackMedia(): MediaTracker {
  const routers = new Set<Router>();
  const transports = new Set<Transport>();
  const producers = new Set<Producer>();
  const consumers = new Set<Consumer>();
  const onWorker = (worker: Worker) => {
    worker.observer.on('newrouter', (router) => {
      track(routers, router);
      router.observer.on('newtransport', (transport) => {
        track(transports, transport);
        transport.observer.on('newproducer', (p) => track(producers, p));
        transport.observer.on('newconsumer', (c) => track(consumers, c));
      });
    });
  };
  mediasoup.observer.on('newworker', onWorker);
  return {
    routers,
    transports,
    producers,
    consumers,
    ofPeer(peerId) {
      return {
        transports: [...transports].filter((t) => t.appData.peerId === peerId),
        producers: [...producers].filter((p) => p.appData.peerId === peerId),
      };
    },
    stop() {
      mediasoup.observer.off('newworker', onWorker);
    },
  };
}
