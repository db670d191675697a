import type { Consumer, PipeTransport, Producer, Router } from 'mediasoup/types';

/** One producer piped from its own router to another one of the same room. */
interface Pipe {
  readonly key: string;
  readonly origin: Router;
  readonly target: Router;
  /** Consumers on the target router of the piped producer, plus callers between reach() and release. */
  users: number;
  /** Unpiped (released or gone): whatever pipeToRouter still delivers is closed on arrival. */
  closed: boolean;
  ready: Promise<void>;
  pipeConsumer?: Consumer;
  pipeProducer?: Producer;
}

/** A producer made consumable on a router: the id to consume there, and the caller's hold. */
export interface Reached {
  producerId: string;
  release(): void;
}

const pipeKey = (producerId: string, target: Router): string => `${producerId}>${target.id}`;
const pairKey = (a: Router, b: Router): string =>
  a.id < b.id ? `${a.id}|${b.id}` : `${b.id}|${a.id}`;

/**
 * Producers piped between the routers of one room (mediasoup's `pipeToRouter`), on demand:
 * piped when the first consumer on another router needs it, unpiped (pipe consumer and pipe
 * producer closed) once nobody there consumes it any more, and the pipe transports between
 * two routers closed once no producer is piped between them. Who consumes a pipe is counted
 * through mediasoup's observer API on every watched router, so the callers hold a pipe only
 * while they create a consumer. Pause/resume and close of the origin producer travel the
 * pipe (mediasoup ties the pipe producer to the pipe consumer); key frame requests (RTCP)
 * travel back through the pipe transports.
 */
export class ProducerPipes {
  readonly #pipes = new Map<string, Pipe>();
  /** The same pipes by the pipe producer's id on the target (what its consumers consume). */
  readonly #byPipeProducer = new Map<string, Pipe>();
  /** Open pipes (and pipes being made) between two routers, by unordered router pair. */
  readonly #pairUse = new Map<string, number>();
  readonly #pipeTransports = new Map<Router, Set<PipeTransport>>();

  /** Counts the consumers of piped producers on `router`, and tracks its pipe transports. */
  watch(router: Router): void {
    const pipeTransports = new Set<PipeTransport>();
    this.#pipeTransports.set(router, pipeTransports);
    router.observer.once('close', () => this.#pipeTransports.delete(router));
    router.observer.on('newtransport', (transport) => {
      if (transport.type === 'pipe') {
        const pipeTransport = transport as PipeTransport;
        pipeTransports.add(pipeTransport);
        transport.observer.once('close', () => pipeTransports.delete(pipeTransport));
        return;
      }
      transport.observer.on('newconsumer', (consumer) => {
        const pipe = this.#byPipeProducer.get(pipeKey(consumer.producerId, router));
        if (!pipe || pipe.closed) return;
        pipe.users++;
        consumer.observer.once('close', () => this.#release(pipe));
      });
    });
  }

  /** Pipes (or pipes being made) right now, for tests and inspection. */
  get size(): number {
    return this.#pipes.size;
  }

  /**
   * Makes `producer` (living on `origin`) consumable on `target`: resolves once the pipe
   * producer exists there (same id across workers, a new one inside a worker) with its id.
   * The caller holds the pipe until it calls `release`, which it must do once its consumer
   * exists (or could not be made). Throws if the pipe could not be made (the producer or a
   * router closed meanwhile).
   */
  async reach(producer: Producer, origin: Router, target: Router): Promise<Reached> {
    if (origin === target) return { producerId: producer.id, release: () => {} };
    const key = pipeKey(producer.id, target);
    let pipe = this.#pipes.get(key);
    if (!pipe) pipe = this.#open(key, producer, origin, target);
    pipe.users++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#release(pipe);
    };
    try {
      await pipe.ready;
    } catch (err) {
      release();
      throw err;
    }
    if (pipe.closed || !pipe.pipeProducer) {
      release();
      throw new Error('pipe closed while it was made');
    }
    return { producerId: pipe.pipeProducer.id, release };
  }

  #open(key: string, producer: Producer, origin: Router, target: Router): Pipe {
    const pipe: Pipe = { key, origin, target, users: 0, closed: false, ready: Promise.resolve() };
    this.#pipes.set(key, pipe);
    const pair = pairKey(origin, target);
    this.#pairUse.set(pair, (this.#pairUse.get(pair) ?? 0) + 1);
    // One worker cannot hold two producers with one id: a pipe inside a worker gets a new one.
    const keepId = origin.appData.workerPid !== target.appData.workerPid;
    pipe.ready = origin
      .pipeToRouter({ producerId: producer.id, router: target, keepId })
      .then(({ pipeConsumer, pipeProducer }) => {
        if (!pipeConsumer || !pipeProducer) throw new Error('pipeToRouter gave no pipe producer');
        if (pipe.closed) {
          pipeConsumer.close();
          pipeProducer.close();
          this.#closeIdlePair(origin, target);
          return;
        }
        pipe.pipeConsumer = pipeConsumer;
        pipe.pipeProducer = pipeProducer;
        this.#byPipeProducer.set(pipeKey(pipeProducer.id, target), pipe);
        // The origin producer closed, or a router (its worker) went away: the pipe is gone.
        pipeProducer.observer.once('close', () => this.#forget(pipe));
        pipeConsumer.observer.once('close', () => this.#forget(pipe));
      });
    pipe.ready.catch(() => this.#forget(pipe));
    return pipe;
  }

  #release(pipe: Pipe): void {
    pipe.users--;
    if (pipe.users > 0 || pipe.closed) return;
    this.#forget(pipe);
    pipe.pipeConsumer?.close();
    pipe.pipeProducer?.close();
  }

  /** The pipe is no more (unpiped, or closed under us): drop it and maybe its transports. */
  #forget(pipe: Pipe): void {
    if (pipe.closed) return;
    pipe.closed = true;
    if (this.#pipes.get(pipe.key) === pipe) this.#pipes.delete(pipe.key);
    const byId = pipe.pipeProducer && pipeKey(pipe.pipeProducer.id, pipe.target);
    if (byId && this.#byPipeProducer.get(byId) === pipe) this.#byPipeProducer.delete(byId);
    const pair = pairKey(pipe.origin, pipe.target);
    const left = (this.#pairUse.get(pair) ?? 1) - 1;
    if (left > 0) this.#pairUse.set(pair, left);
    else this.#pairUse.delete(pair);
    this.#closeIdlePair(pipe.origin, pipe.target);
  }

  /** Closes the pipe transports between `a` and `b` when no pipe between them is left. */
  #closeIdlePair(a: Router, b: Router): void {
    if (this.#pairUse.has(pairKey(a, b))) return;
    const ofB = this.#pipeTransports.get(b);
    for (const t of this.#pipeTransports.get(a) ?? []) {
      const peer = [...(ofB ?? [])].find(
        (u) => u.tuple.localPort === t.tuple.remotePort && u.tuple.remotePort === t.tuple.localPort,
      );
      // Closing one end closes the other (mediasoup links the pair).
      if (peer) t.close();
    }
  }
}
