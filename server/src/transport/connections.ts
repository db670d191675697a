import protoo from 'protoo-server';
import type { Peer as ProtooPeer } from 'protoo-server';
import type { WsTransport } from './WsTransport.ts';

/**
 * Every open signaling connection on this node (one protoo Room used as the registry).
 * Built before the HTTP plugins, so the metrics read it like any other service.
 */
export class ConnectionRegistry {
  readonly #all = new protoo.Room();

  /** Registers a connection under a server-generated id; throws if protoo refuses it. */
  open(id: string, transport: WsTransport): ProtooPeer {
    return this.#all.createPeer(id, transport);
  }

  get count(): number {
    return this.#all.peers.length;
  }

  /** Closes every connection (shutdown, after the rooms told their members). */
  close(): void {
    this.#all.close();
  }
}
