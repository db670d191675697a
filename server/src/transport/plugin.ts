import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { Peer as ProtooPeer } from 'protoo-server';
import { ERROR_CODES } from '@tutti/protocol';
import { lazyChild } from '../kernel/lazyLog.ts';
import type { Logger } from '../kernel/log.ts';
import { TokenBucket } from '../kernel/rateLimit.ts';
import type { HandlerTable, MemberChannel } from '../rooms/ports.ts';
import { ConnectionsPerAddress } from './addressLimit.ts';
import type { ConnectionRegistry } from './connections.ts';
import { createDispatcher } from './dispatch.ts';
import { Heartbeat } from './heartbeat.ts';
import { ProtooChannel } from './ProtooChannel.ts';
import type { ResumeSessions } from './resume.ts';
import { UpgradeRelease } from './upgradeRelease.ts';
import { WsTransport, type SendLimits, type WsLike } from './WsTransport.ts';
import { WriteCoalescer } from './writeCoalescer.ts';

export interface TransportOptions {
  connections: ConnectionRegistry;
  /** Every concern's protoo handlers (a method may appear in one table only). */
  handlerTables: readonly HandlerTable[];
  /** Runs once a connection opened, with its upgrade request (the session cookie it carried). */
  onOpened?: (channel: MemberChannel, req: FastifyRequest) => void;
  /**
   * Every connection's member channel: a dropped socket's member may be kept for a resume;
   * once a channel is finally closed the sessions tell the rooms (their onClosed).
   */
  sessions: ResumeSessions;
  log: Logger;
  /** Largest accepted frame, bytes (bigger frames close the socket with 1009). */
  maxPayload?: number;
  /** Per-connection request rate (token bucket); requests over it get RATE_LIMITED. */
  rateLimit: { requestsPerSecond: number; requestBurst: number };
  /** What one client may cost: send queue, answer size, liveness, sockets per address. */
  limits: SendLimits & { pingIntervalSeconds: number; maxConnectionsPerAddress: number };
}

/** How long shutdown waits for WebSocket close handshakes before cutting the sockets. */
const CLOSE_GRACE_MS = 500;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

const RATE_LIMITED_REASON = 'RATE_LIMITED: too many requests; slow down';
const TOO_MANY_SOCKETS = 'too many connections from this address';
/** Policy violation: the client can tell this close from a network drop. */
const CLOSE_POLICY = 1008;
/** 1005: a close frame without a status code; 1006: the socket ended without one. */
const RESUMABLE_CLOSES = new Set([1005, 1006]);

/**
 * GET /ws: protoo over @fastify/websocket (an encapsulated route plugin). Connection ids are
 * server-generated. Every request goes through the dispatcher (lookup → validation →
 * handler → error mapping); nothing a client sends can throw out of here.
 */
export const transportPlugin: FastifyPluginAsync<TransportOptions> = async (app, opts) => {
  const { connections } = opts;
  const dispatch = createDispatcher(opts.handlerTables, opts.log);
  const { limits } = opts;
  const perAddress = new ConnectionsPerAddress(limits.maxConnectionsPerAddress);
  // One for all sockets: the sockets one fan-out wrote to are flushed by one timer.
  const coalescer = new WriteCoalescer({
    holdMs: limits.coalesceWritesMs ?? 0,
    busyFramesPerSecond: limits.coalesceFromFramesPerSecond ?? 0,
  });
  const heartbeat = new Heartbeat(limits.pingIntervalSeconds * 1000, () =>
    opts.log.info({}, 'signaling socket missed a pong: terminated'),
  );

  await app.register(websocket, {
    options: {
      maxPayload: opts.maxPayload ?? 1024 * 1024,
      // protoo-client asks for the "protoo" subprotocol; accept it (or none).
      handleProtocols: (protocols: Set<string>) => (protocols.has('protoo') ? 'protoo' : false),
    },
  });

  app.addHook('preClose', async () => {
    heartbeat.stop();
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
  // No member is kept for a resume past shutdown (sockets closed above may have detached some).
  app.addHook('onClose', async () => opts.sessions.close());

  // Refused before the upgrade while an address is at its cap; the handler below counts
  // exactly (upgrades that raced past this check are closed there).
  const refuseFullAddress = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!perAddress.isFull(req.ip)) return;
    opts.log.warn({ ip: req.ip }, 'signaling connection refused: per-address cap');
    await reply.code(429).send({ error: 'RATE_LIMITED', message: TOO_MANY_SOCKETS });
  };

  const upgrades = new UpgradeRelease();
  const onRequest = [upgrades.remember, refuseFullAddress];
  app.get('/ws', { websocket: true, onRequest }, (socket, req) => {
    // No closure below may capture `req`: it would keep the whole upgrade request alive.
    const { ip } = req;
    if (!perAddress.tryOpen(ip)) {
      socket.close(CLOSE_POLICY, `RATE_LIMITED: ${TOO_MANY_SOCKETS}`);
      return;
    }
    // No close frame (a network drop, a cut socket) or one without a status (a browser
    // dropping a socket it found dead): the member may come back. 1000/1001 are goodbyes.
    let dropped = false;
    socket.on('close', (code: number) => {
      perAddress.release(ip);
      dropped = RESUMABLE_CLOSES.has(code);
    });
    heartbeat.watch(socket);
    const ws = socket as unknown as WsLike;
    const label = `WS:[${ip}]:${req.socket.remotePort ?? '?'}`;
    const id = randomUUID();
    const log = lazyChild(opts.log, { peerId: id });
    upgrades.release(req, socket, (err) => {
      log.error({ err }, 'signaling socket error');
      socket.terminate();
    });
    const transport = new WsTransport(
      ws,
      label,
      (err) => log.error({ err }, 'signaling listener error'),
      limits,
      coalescer,
    );
    transport.on('overflow', (bytes: number) =>
      log.warn({ ip, bufferedBytes: bytes }, 'signaling client not reading: socket cut'),
    );
    transport.on('oversized', (bytes: number) =>
      log.warn({ bytes }, 'signaling answer over maxResponseBytes: sent PAYLOAD_TOO_LARGE'),
    );
    let signal: ProtooPeer;
    try {
      signal = connections.open(id, transport);
    } catch (err) {
      log.error({ err }, 'could not create protoo peer');
      transport.close();
      return;
    }
    const socketChannel = new ProtooChannel(signal, ip, transport);
    // This socket's channel; after a session.resume, `peer.current` is the resumed member's.
    const peer = opts.sessions.open(socketChannel);
    opts.onOpened?.(peer, req);
    log.debug({ ip }, 'signaling connected');
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
          log.warn({ ip }, 'signaling rate limit hit');
        }
        reject(ERROR_CODES.RATE_LIMITED, RATE_LIMITED_REASON);
        return;
      }
      dispatch({ peer: peer.current }, request.method, request.data, log)
        .then((result) => {
          if (result.ok) accept(result.data);
          else reject(result.status, result.reason);
        })
        .catch((err: unknown) => {
          log.error({ err }, 'dispatch failed');
          reject(500, 'INTERNAL: internal error');
        });
    });
    signal.on('notification', () => {
      // Clients have nothing to notify the server of; ignore.
    });
    signal.on('close', () => {
      log.debug({}, 'signaling closed');
      opts.sessions.socketClosed(peer.current, socketChannel, dropped);
    });
  });
};
