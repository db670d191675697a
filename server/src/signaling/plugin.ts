import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import websocket from '@fastify/websocket';
import protoo from 'protoo-server';
import { Peer } from '../rooms/Peer.ts';
import { ERROR_CODES } from '@tutti/protocol';
import { createDispatcher } from './dispatch.ts';
import type { HandlerTable } from './handlers.ts';
import { TokenBucket } from '../kernel/rateLimit.ts';
import { WsTransport, type WsLike } from './WsTransport.ts';

export interface SignalingOptions {
  handlerTables: HandlerTable[];
  /** Largest accepted frame, bytes (bigger frames close the socket with 1009). */
  maxPayload?: number;
  /** Per-connection request rate (token bucket); requests over it get RATE_LIMITED. */
  rateLimit: { requestsPerSecond: number; requestBurst: number };
}

/** How long shutdown waits for WebSocket close handshakes before cutting the sockets. */
const CLOSE_GRACE_MS = 500;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

const RATE_LIMITED_REASON = 'RATE_LIMITED: too many requests; slow down';

/**
 * GET /ws: protoo over @fastify/websocket. One protoo Room is the connection registry;
 * peer ids are server-generated. Every request goes through the dispatcher (lookup →
 * validation → handler → error mapping); nothing a client sends can throw out of here.
 */
export const signalingPlugin: FastifyPluginAsync<SignalingOptions> = async (
  app: FastifyInstance,
  opts,
) => {
  const { rooms } = app.tutti;
  const dispatch = createDispatcher(opts.handlerTables, app.log);
  const connections = new protoo.Room();
  app.tutti.connections = connections;

  await app.register(websocket, {
    options: {
      maxPayload: opts.maxPayload ?? 1024 * 1024,
      // protoo-client asks for the "protoo" subprotocol; accept it (or none).
      handleProtocols: (protocols: Set<string>) => (protocols.has('protoo') ? 'protoo' : false),
    },
  });

  app.addHook('preClose', async () => {
    // The rooms tell their members first (app.ts preClose); then drop every socket.
    connections.close();
    // A client that never answers the close handshake would hold server.close() for ws's
    // 30 s close timeout: give the handshakes a moment, then cut what is left.
    const clients = app.websocketServer.clients;
    if (clients.size === 0) return;
    const deadline = Date.now() + CLOSE_GRACE_MS;
    while (clients.size > 0 && Date.now() < deadline) await sleep(25);
    for (const client of clients) client.terminate();
  });

  app.get('/ws', { websocket: true }, (socket, req) => {
    const ws = socket as unknown as WsLike;
    const label = `WS:[${req.ip}]:${req.socket.remotePort ?? '?'}`;
    const transport = new WsTransport(ws, label, (err) =>
      app.log.error({ err }, 'signaling listener error'),
    );
    let signal: protoo.Peer;
    try {
      signal = connections.createPeer(randomUUID(), transport);
    } catch (err) {
      app.log.error({ err }, 'could not create protoo peer');
      transport.close();
      return;
    }
    const peer = new Peer(signal, req.ip, transport, () => rooms.membership(signal.id));
    app.log.debug({ peerId: peer.id, ip: req.ip }, 'signaling connected');
    // Lives and dies with the connection: nothing to clean up.
    const bucket = new TokenBucket({
      ratePerSecond: opts.rateLimit.requestsPerSecond,
      burst: opts.rateLimit.requestBurst,
    });
    let limitedLogged = false;

    signal.on('request', (request, accept, reject) => {
      if (!bucket.take()) {
        if (!limitedLogged) {
          limitedLogged = true;
          app.log.warn({ peerId: peer.id, ip: req.ip }, 'signaling rate limit hit');
        }
        reject(ERROR_CODES.RATE_LIMITED, RATE_LIMITED_REASON);
        return;
      }
      dispatch({ peer }, request.method, request.data)
        .then((result) => {
          if (result.ok) accept(result.data);
          else reject(result.status, result.reason);
        })
        .catch((err: unknown) => {
          app.log.error({ err }, 'dispatch failed');
          reject(500, 'INTERNAL: internal error');
        });
    });
    signal.on('notification', () => {
      // Clients have nothing to notify the server of; ignore.
    });
    signal.on('close', () => {
      app.log.debug({ peerId: peer.id }, 'signaling closed');
      try {
        rooms.connectionClosed(peer);
      } catch (err) {
        app.log.error({ err, peerId: peer.id }, 'peer cleanup failed');
      }
    });
  });
};
