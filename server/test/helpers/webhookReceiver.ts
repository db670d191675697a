import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  /** The raw body, as the signature covers it. */
  body: string;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  /** Every POST that arrived in full (failed and hanging ones too). */
  received: ReceivedHook[];
  /** Answers that were held open (the hanging receiver). */
  held: ServerResponse[];
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on 127.0.0.11 (this helper's loopback address, unless `host` says
 * another), port 0: `answer(n)` says what to do with the n-th POST (0-based): a status, or
 * 'hang' (never answer).
 */
export async function startWebhookReceiver(
  answer: (n: number) => number | 'hang' = () => 204,
  host = '127.0.0.11',
): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = received.length;
      received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        at: Date.now(),
      });
      const what = answer(n);
      if (what === 'hang') held.push(res);
      else res.writeHead(what).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/hooks`,
    received,
    held,
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
