import type { Producer } from 'mediasoup/types';
import type { ProducerAppData } from './mediaTypes.ts';

/**
 * Producers of members on other nodes, piped into this node (federation/mediaEdge.ts makes
 * them): the room's members consume them like a local member's. Each leaves on its close
 * (the origin closed it, the pipe closed, the origin node is gone).
 */
export class RemoteProducers {
  readonly #producers = new Map<string, Producer<ProducerAppData>>();
  readonly #share: (producer: Producer<ProducerAppData>) => void;

  /** `share`: every member of the room starts consuming a new remote producer. */
  constructor(share: (producer: Producer<ProducerAppData>) => void) {
    this.#share = share;
  }

  get size(): number {
    return this.#producers.size;
  }

  producers(): Iterable<Producer<ProducerAppData>> {
    return this.#producers.values();
  }

  add(producer: Producer<ProducerAppData>): void {
    if (producer.closed || this.#producers.has(producer.id)) return;
    this.#producers.set(producer.id, producer);
    producer.observer.once('close', () => {
      if (this.#producers.get(producer.id) === producer) this.#producers.delete(producer.id);
    });
    this.#share(producer);
  }
}
