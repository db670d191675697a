import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '@tutti/config';
import { httpTimeouts } from '../transport/httpTimeouts.ts';
import { loadOrCreateCertificate } from './certificate.ts';

// Issue #10: a camera works only in a secure context, so off localhost a plain-HTTP Tutti is
// unusable. `npm start` serves the very same app (routes, /ws, services) on a second, TLS
// port: one https.Server feeding Fastify's router and the WebSocket upgrade listener.

export interface HttpsEndpoint {
  server: Server;
  /** Starts listening on config.server.httpsPort; resolves with the bound port. */
  listen(): Promise<number>;
}

/**
 * Prepares HTTPS for `app` (call before app.listen: it adds the close hook), or returns
 * undefined when server.httpsPort is 0. The certificate is config's, else a self-signed one
 * kept under the data dir.
 */
export async function prepareHttps(
  app: FastifyInstance,
  config: Config,
): Promise<HttpsEndpoint | undefined> {
  const { httpsPort, host, tlsCertFile, tlsKeyFile } = config.server;
  if (httpsPort === 0) return undefined;
  const tls = await loadOrCreateCertificate({
    dataDir: config.data.dir,
    certFile: tlsCertFile,
    keyFile: tlsKeyFile,
  });
  app.log.info({ certFile: tls.certFile, origin: tls.origin }, 'HTTPS certificate');

  // The same slow-client deadlines as the plain HTTP port (issue #10, defect 6).
  const timeouts = httpTimeouts(config);
  const server = createServer(
    {
      cert: tls.cert,
      key: tls.key,
      ...timeouts.http,
      requestTimeout: timeouts.requestTimeout,
    },
    (req, res) => app.routing(req, res),
  );
  server.setTimeout(timeouts.connectionTimeout);
  // @fastify/websocket listens for upgrades on app.server: hand it ours too (same /ws route).
  server.on('upgrade', (req, socket, head) => app.server.emit('upgrade', req, socket, head));
  // A failed handshake (a browser that does not trust the certificate yet) is routine.
  server.on('tlsClientError', (err) => app.log.debug({ err }, 'TLS handshake failed'));

  app.addHook('onClose', async () => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  });

  return {
    server,
    listen: () =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(httpsPort, host, () => {
          server.off('error', reject);
          const port = (server.address() as AddressInfo).port;
          app.log.info(`HTTPS at https://${host.includes(':') ? `[${host}]` : host}:${port}`);
          resolve(port);
        });
      }),
  };
}
