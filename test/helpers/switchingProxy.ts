import net from 'node:net';

export interface ProxyTarget {
  host: string;
  port: number;
}

/**
 * A TCP proxy whose backend can be switched (a page or a client that reconnects lands on
 * another node behind one address). `cut()` drops every connection without a close frame.
 */
export class SwitchingProxy {
  readonly #sockets = new Set<net.Socket>();
  #target: ProxyTarget;
  #server: net.Server | undefined;
  port = 0;

  constructor(target: ProxyTarget) {
    this.#target = target;
  }

  async start(host: string): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.#target);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    this.#server = server;
    this.port = (server.address() as net.AddressInfo).port;
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
    await new Promise<void>((resolve) =>
      this.#server ? this.#server.close(() => resolve()) : resolve(),
    );
  }
}
