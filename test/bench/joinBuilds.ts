import { cpSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * One public directory that serves several client builds, for bench:join's A/B in one
 * sitting and against one server: `current` as is (its index.html at /), and each other
 * build's page as `/<label>.html`, its hashed assets added next to the current ones (a name
 * two builds share is the same content). Each join runs in a fresh browser context, so no
 * build finds another's files in a cache.
 */
export function mergedPublicDir(
  current: string,
  others: readonly { label: string; dir: string }[],
): string {
  for (const dir of [current, ...others.map((o) => o.dir)])
    if (!existsSync(path.join(dir, 'index.html'))) throw new Error(`${dir}: no index.html`);
  const out = mkdtempSync(path.join(os.tmpdir(), 'tutti-bench-join-ab-'));
  cpSync(current, out, { recursive: true });
  for (const { label, dir } of others) {
    cpSync(path.join(dir, 'assets'), path.join(out, 'assets'), {
      recursive: true,
      force: false,
      errorOnExist: false,
    });
    // The page and its precompressed copies (server: preCompressed .br / .gz).
    for (const name of readdirSync(dir).filter((n) => /^index\.html(\.br|\.gz)?$/.test(n)))
      cpSync(path.join(dir, name), path.join(out, name.replace('index', label)));
  }
  return out;
}
