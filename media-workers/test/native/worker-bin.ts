// Where the tests find the worker built by media-workers/build/build-worker.sh.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const buildDir = join(repoRoot, 'media-workers', 'build');
export const workerLink = join(repoRoot, 'media-workers', 'bin', 'mediasoup-worker');

/** MEDIASOUP_WORKER_BIN, else the symlink build-worker.sh maintains. */
export function workerBin(): string {
  const bin = process.env.MEDIASOUP_WORKER_BIN || workerLink;
  if (!existsSync(bin)) {
    throw new Error(
      `no mediasoup-worker at ${bin}: run media-workers/build/build-worker.sh (npm run worker:build)`,
    );
  }
  return realpathSync(bin);
}
