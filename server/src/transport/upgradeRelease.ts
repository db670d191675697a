import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/** The part of a `ws` WebSocket whose 'error' listeners are replaced. */
interface ErrorEmitter {
  removeAllListeners(event: 'error'): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * The HTTP request a WebSocket was upgraded from is of no use once the socket is open, yet
 * two things keep it for the whole connection (about 5 KB a socket: the IncomingMessage and
 * its headers, the ServerResponse @fastify/websocket routes it with, Fastify's request and
 * reply and the request's child logger): the response stays assigned to the TCP socket (it
 * never finishes), and @fastify/websocket's 'error' listener on the WebSocket closes over
 * request and reply. `remember` runs as the route's onRequest hook, `release` in its handler.
 */
export class UpgradeRelease {
  /** Upgrade request → its response, until the handler runs (or the request is gone). */
  readonly #responses = new WeakMap<IncomingMessage, ServerResponse>();

  readonly remember = (
    req: FastifyRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ): void => {
    this.#responses.set(req.raw, reply.raw);
    done();
  };

  /**
   * Lets the upgrade's request and response go. `onError` replaces @fastify/websocket's
   * listener, doing what its default error handler does (log, then terminate the socket).
   */
  release(req: FastifyRequest, socket: ErrorEmitter, onError: (err: Error) => void): void {
    const res = this.#responses.get(req.raw);
    this.#responses.delete(req.raw);
    // Nothing listens for the response's 'close' (Fastify's listeners want 'finish'/'error').
    if (res && res.socket === req.raw.socket && req.raw.socket) res.detachSocket(req.raw.socket);
    socket.removeAllListeners('error');
    socket.on('error', onError);
  }
}
