import { ProtocolClient, type ProtocolClientOptions } from './client.ts';

/** The part of a protoo-client `Peer` the adapter uses (structural: no dependency on it). */
export interface ProtooPeerLike {
  request(method: string, data?: unknown): Promise<unknown>;
  on(
    event: 'notification',
    handler: (notification: { method: string; data?: unknown }) => void,
  ): void;
  on(
    event: 'request',
    handler: (
      request: { method: string; data?: unknown },
      accept: (data: object) => void,
      reject: (errorCode: number, errorReason: string) => void,
    ) => void,
  ): void;
}

/**
 * Feeds a protoo peer's incoming notifications and server requests into `client`.
 * Call it once per peer: a reconnecting client builds a new peer and attaches it to the
 * same ProtocolClient, so listeners and handlers survive the reconnect.
 */
export function attachProtooPeer(peer: ProtooPeerLike, client: ProtocolClient): void {
  peer.on('notification', (n) => client.receiveNotification(n.method, n.data));
  peer.on('request', (request, accept, reject) => {
    void client.receiveRequest(request.method, request.data).then((answer) => {
      if (answer.ok) accept(answer.data);
      else reject(answer.errorCode, answer.errorReason);
    });
  });
}

/** A ProtocolClient over one protoo peer (no reconnects: the peer is its whole life). */
export function protooClient(
  peer: ProtooPeerLike,
  options?: ProtocolClientOptions,
): ProtocolClient {
  const client = new ProtocolClient((method, data) => peer.request(method, data), options);
  attachProtooPeer(peer, client);
  return client;
}
