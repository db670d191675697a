import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Paths that name a file (an extension in the last segment, or under /assets/): never the page. */
function looksLikeFile(url: string): boolean {
  if (url.startsWith('/assets/')) return true;
  const last = url.slice(url.lastIndexOf('/') + 1);
  return path.posix.extname(last) !== '';
}

/**
 * Serves the built Svelte client (config.server.publicDir, relative to the repo root) with
 * an SPA fallback: unknown GETs that accept HTML get index.html; /api/* and /ws stay 404 JSON.
 * Files are looked up at request time (wildcard route), so a client built or rebuilt while
 * the server runs — new hashed asset names — is served without a restart.
 */
export const staticPlugin: FastifyPluginAsync<{ publicDir: string }> = async (app, opts) => {
  const root = path.resolve(REPO_ROOT, opts.publicDir);
  const indexFile = path.join(root, 'index.html');
  if (!existsSync(indexFile)) {
    app.log.warn({ root }, 'client not built (npm run build); serving the API until it is');
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: true,
    index: ['index.html'],
    // A missing publicDir is reported above, in plain words.
    suppressWarning: true,
  });

  app.setNotFoundHandler((req, reply) => {
    const url = req.url.split('?')[0] ?? '/';
    const isApi = url.startsWith('/api/') || url === '/api' || url === '/ws';
    const wantsHtml = (req.headers.accept ?? '').includes('text/html');
    const isPageLoad =
      !isApi &&
      !looksLikeFile(url) &&
      (req.method === 'GET' || req.method === 'HEAD') &&
      (wantsHtml || url === '/');
    if (isPageLoad) {
      if (existsSync(indexFile)) return reply.type('text/html').sendFile('index.html');
      return reply
        .status(404)
        .type('text/plain')
        .send('The Tutti client is not built. Run "npm run build".');
    }
    return reply.status(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${url}` });
  });
};
