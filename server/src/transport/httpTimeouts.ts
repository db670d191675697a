import type { ServerOptions } from 'node:http';
import type { Config } from '@tutti/config';

/**
 * Fastify's defaults leave slow clients alone for ever (requestTimeout and
 * connectionTimeout 0): a client dribbling its headers or body byte by byte, or a socket
 * that says nothing, holds its connection until it goes. Node checks the request and
 * header deadlines on a timer (30 s by default), set here too. WebSocket upgrades are not
 * affected: ws clears the socket timeout, and the transport pings instead.
 */
export function httpTimeouts(config: Config): {
  requestTimeout: number;
  connectionTimeout: number;
  http: ServerOptions;
} {
  const s = config.server;
  const requestTimeout = s.requestTimeoutSeconds * 1000;
  return {
    requestTimeout,
    connectionTimeout: s.connectionTimeoutSeconds * 1000,
    http: {
      headersTimeout: Math.min(s.headersTimeoutSeconds * 1000, requestTimeout),
      connectionsCheckingInterval: s.timeoutCheckIntervalSeconds * 1000,
    },
  };
}
