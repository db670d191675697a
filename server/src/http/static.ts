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
 * Hashed build output (/assets/*: the name changes with the content) is cached for a year
 * and never revalidated; everything else (index.html, favicon) is revalidated on every
 * load (ETag), so a new build is picked up at once.
 */
export function cacheControlFor(root: string, filePath: string): string {
  const rel = path.relative(root, filePath).split(path.sep).join('/');
  return rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
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
    // The build writes .br and .gz next to each compressible file (client/vite.config.ts):
    // served as is, never compressed per request.
    preCompressed: true,
    setHeaders: (reply, filePath) => reply.header('cache-control', cacheControlFor(root, filePath)),
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
