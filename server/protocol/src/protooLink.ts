import { ProtocolClient, type ProtocolClientOptions } from './client.ts';

/**
 * The part of a protoo-client `Peer` the adapter uses, kept structural (no dependency on
 * protoo-client). `on` is typed loosely because protoo-client's overloads cannot be matched
 * one by one; the handlers below spell out what protoo passes for 'notification' and
 * 'request'.
 */
export interface ProtooPeerLike {
  request(method: string, data?: unknown): Promise<unknown>;
  on(event: string, handler: (...args: never[]) => unknown): void;
}

interface IncomingMessage {
  method: string;
  data?: unknown;
}

/**
 * Feeds a protoo peer's incoming notifications and server requests into `client`.
 * Call it once per peer: a reconnecting client builds a new peer and attaches it to the
 * same ProtocolClient, so listeners and handlers survive the reconnect.
 */
export function attachProtooPeer(peer: ProtooPeerLike, client: ProtocolClient): void {
  peer.on('notification', (n: IncomingMessage) => client.receiveNotification(n.method, n.data));
  const onRequest = (
    request: IncomingMessage,
    accept: (data: object) => void,
    reject: (errorCode: number, errorReason: string) => void,
  ): void => {
    void client.receiveRequest(request.method, request.data).then((answer) => {
      if (answer.ok) accept(answer.data);
      else reject(answer.errorCode, answer.errorReason);
    });
  };
  peer.on('request', onRequest);
}

/** A ProtocolClient over one protoo peer (no reconnects: the peer is its whole life). */
export function protooPeerClient(
  peer: ProtooPeerLike,
  options?: ProtocolClientOptions,
): ProtocolClient {
  const client = new ProtocolClient((method, data) => peer.request(method, data), options);
  attachProtooPeer(peer, client);
  return client;
}
