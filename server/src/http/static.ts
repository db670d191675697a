import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Serves the built Svelte client (config.server.publicDir, relative to the repo root) with
 * an SPA fallback: unknown GETs that accept HTML get index.html; /api/* and /ws stay 404 JSON.
 */
export const staticPlugin: FastifyPluginAsync = async (app) => {
  const root = path.resolve(REPO_ROOT, app.tutti.config.server.publicDir);
  const hasClient = existsSync(path.join(root, 'index.html'));
  if (hasClient) {
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
    });
  } else {
    app.log.warn({ root }, 'client not built (npm run build); serving the API only');
  }

  app.setNotFoundHandler((req, reply) => {
    const url = req.url.split('?')[0] ?? '/';
    const isApi = url.startsWith('/api/') || url === '/api' || url === '/ws';
    const wantsHtml = (req.headers.accept ?? '').includes('text/html');
    if (!isApi && (req.method === 'GET' || req.method === 'HEAD') && (wantsHtml || url === '/')) {
      if (hasClient) return reply.type('text/html').sendFile('index.html');
      return reply
        .status(404)
        .type('text/plain')
        .send('The Tutti client is not built. Run "npm run build".');
    }
    return reply.status(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${url}` });
  });
};
