import net from 'node:net';

export interface ProxyTarget {
  host: string;
  port: number;
}

/**
 * One answer to lose (`loseAnswer`): the next server → client chunk that contains `answer`
 * (server frames are not masked) is swallowed, and its connection is `cut` (both ends see it
 * drop) or left `half-open` (the client's end drops; the server's stays open, passing
 * nothing, as for a peer gone without a FIN).
 */
export interface LostAnswer {
  answer: string;
  then: 'cut' | 'half-open';
}

/**
 * A TCP proxy in front of a real server, to put real network faults between a client and
 * it: `stop()` refuses and cuts every connection (the server is down), `freeze()` keeps
 * connections open but passes no more bytes (the server hangs), `start()` brings it back on
 * the same port; `switchTo()` moves it to another backend (a client that reconnects lands on
 * another node behind one address), `cut()` drops every connection without a close frame,
 * `loseAnswer()` swallows one answer and drops (or hangs) its connection.
 */
export class TcpProxy {
  readonly #sockets = new Set<net.Socket>();
  #target: ProxyTarget;
  #server: net.Server | undefined;
  #frozen = false;
  #lose: (LostAnswer & { lost: (text: string) => void }) | undefined;
  port = 0;

  constructor(target: ProxyTarget) {
    this.#target = target;
  }

  async start(host = '127.0.0.1'): Promise<void> {
    this.#frozen = false;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.#target);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {});
      }
      // Set once loseAnswer() left this connection half-open: nothing passes any more.
      let halfOpen = false;
      client.on('data', (d) => this.#frozen || halfOpen || upstream.write(d));
      upstream.on('data', (d) => {
        if (this.#frozen || halfOpen) return;
        const lose = this.#lose;
        if (!lose || !d.toString().includes(lose.answer)) return void client.write(d);
        this.#lose = undefined;
        halfOpen = lose.then === 'half-open';
        client.destroy();
        if (!halfOpen) upstream.destroy();
        lose.lost(d.toString());
      });
      client.on('close', () => halfOpen || upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, host, () => resolve());
    });
    this.#server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  /** Resolves with what was swallowed, once it was (see LostAnswer). */
  loseAnswer(lose: LostAnswer): Promise<string> {
    return new Promise((lost) => (this.#lose = { ...lose, lost }));
  }

  freeze(): void {
    this.#frozen = true;
  }

  /** New connections go to `target` from now on; the open ones stay until cut. */
  set target(target: ProxyTarget) {
    this.#target = target;
  }

  cut(): void {
    for (const s of this.#sockets) s.destroy();
  }

  /** Switches the backend and cuts every connection. */
  switchTo(target: ProxyTarget): void {
    this.#target = target;
    this.cut();
  }

  async stop(): Promise<void> {
    this.cut();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
