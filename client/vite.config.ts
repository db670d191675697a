import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { HtmlTagDescriptor, Plugin } from 'vite';

/**
 * `<link rel=modulepreload>` for the lazily loaded room chunk and its imports: the browser
 * fetches and compiles it alongside the entry, so a shared link (#/room/<id>) finds it ready.
 */
function preloadRoomChunk(): Plugin {
  return {
    name: 'tutti-preload-room-chunk',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const bundle = ctx.bundle;
        if (!bundle) return [];
        const files = new Set<string>();
        const styles = new Set<string>();
        const visit = (fileName: string): void => {
          const chunk = bundle[fileName];
          if (!chunk || chunk.type !== 'chunk' || files.has(fileName)) return;
          if (chunk.isEntry) return;
          files.add(fileName);
          for (const css of chunk.viteMetadata?.importedCss ?? []) styles.add(css);
          for (const imported of chunk.imports) visit(imported);
        };
        for (const chunk of Object.values(bundle)) {
          if (chunk.type === 'chunk' && chunk.facadeModuleId?.endsWith('/room-chunk.ts'))
            visit(chunk.fileName);
        }
        const link = (attrs: Record<string, string | boolean>): HtmlTagDescriptor => ({
          tag: 'link',
          attrs,
          injectTo: 'head',
        });
        return [
          ...[...files].map((f) =>
            link({ rel: 'modulepreload', crossorigin: true, href: `/${f}` }),
          ),
          ...[...styles].map((f) =>
            link({ rel: 'preload', as: 'style', crossorigin: true, href: `/${f}` }),
          ),
        ];
      },
    },
  };
}

/**
 * boot.ts is an entry of its own, with its own `<script type=module>` at the top of the
 * page: its few hundred bytes arrive and run (opening the signaling socket) while the app's
 * chunks are still being fetched and compiled. main.ts imports it as well (the same module,
 * evaluated once), which is how the dev server runs it first.
 */
function bootScript(): Plugin {
  return {
    name: 'tutti-boot-script',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const boot = Object.values(ctx.bundle ?? {}).find(
          (c) => c.type === 'chunk' && c.isEntry && c.facadeModuleId?.endsWith('/src/boot.ts'),
        );
        if (!boot) return [];
        return [
          {
            tag: 'script',
            attrs: { type: 'module', async: true, crossorigin: true, src: `/${boot.fileName}` },
            injectTo: 'head-prepend',
          },
        ];
      },
    },
  };
}

const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|txt|map|wasm)$/;

/**
 * Writes `<file>.br` (quality 11) and `<file>.gz` (level 9) next to every compressible file
 * of the build, once, so the server sends them as they are (server/src/http/static.ts,
 * `preCompressed`) instead of compressing per request — or not at all. Files under 1 KB
 * and ones that would not shrink are left alone.
 */
function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'tutti-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    async closeBundle() {
      const walk = async (dir: string): Promise<string[]> =>
        (
          await Promise.all(
            (await readdir(dir, { withFileTypes: true })).map((e) =>
              e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
            ),
          )
        ).flat();
      for (const file of await walk(outDir)) {
        if (!COMPRESSIBLE.test(file) || (await stat(file)).size < 1024) continue;
        const body = await readFile(file);
        const br = brotliCompressSync(body, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: 11,
            [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
          },
        });
        const gz = gzipSync(body, { level: 9 });
        if (br.length < body.length) await writeFile(`${file}.br`, br);
        if (gz.length < body.length) await writeFile(`${file}.gz`, gz);
      }
    },
  };
}

// Dev server proxies signaling and the HTTP API (rooms, /api/files uploads and downloads)
// to the Tutti server on :3000.
const target = process.env.TUTTI_DEV_SERVER ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [svelte(), bootScript(), preloadRoomChunk(), precompress()],
  server: {
    proxy: {
      // The server refuses cross-origin /ws upgrades (docs/admin-api.md): the dev page's
      // origin is rewritten to the target's, as if the page came from the server.
      '/ws': { target, ws: true, changeOrigin: true, rewriteWsOrigin: true },
      '/api': { target, changeOrigin: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: {
        index: path.resolve(import.meta.dirname, 'index.html'),
        boot: path.resolve(import.meta.dirname, 'src/boot.ts'),
      },
    },
  },
});
