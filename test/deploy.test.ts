import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';

// No Docker engine runs here, so the image cannot be built in CI; these checks lint the
// Dockerfile against the repo and the real worker binary instead.

const root = new URL('../', import.meta.url).pathname;
const dockerfile = readFileSync(`${root}docker/Dockerfile`, 'utf8');
// Join continuation lines so each instruction is one line.
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

test('every COPY from the build context names a file or folder that exists', () => {
  const copies = instructions.filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l));
  assert.ok(copies.length > 3);
  for (const line of copies) {
    const parts = line
      .split(/\s+/)
      .slice(1)
      .filter((p) => !p.startsWith('--'));
    for (const src of parts.slice(0, -1)) {
      if (src === '.') continue;
      assert.ok(existsSync(`${root}${src}`), `${line}: ${src} is missing`);
    }
  }
});

test('the runtime stage installs every shared library the built worker links', () => {
  const bin = `${root}media-workers/bin/mediasoup-worker`;
  assert.ok(existsSync(bin), 'run media-workers/build/build-worker.sh first');
  const runtimeStage = instructions.slice(instructions.findIndex((l) => / AS runtime/.test(l)));
  const installLine = runtimeStage.find((l) => l.includes('apt-get install')) ?? '';
  const libs = execFileSync('ldd', [realpathSync(bin)], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /=>\s+(\/\S+)/.exec(l)?.[1])
    .filter((p): p is string => Boolean(p));
  // Always present in debian:bookworm-slim.
  const base = new Set(['libc6', 'libgcc-s1', 'libstdc++6']);
  for (const lib of libs) {
    const pkg = owningPackage(lib);
    if (base.has(pkg)) continue;
    assert.match(
      installLine,
      new RegExp(`\\b${pkg.replace(/[+.]/g, '\\$&')}\\b`),
      `${lib} comes from ${pkg}`,
    );
  }
});

/** dpkg knows a file by the path it shipped it under; usrmerge makes /lib and /usr/lib aliases. */
function owningPackage(lib: string): string {
  const real = realpathSync(lib);
  const candidates = [
    lib,
    real,
    real.replace(/^\/usr\/lib\//, '/lib/'),
    lib.replace(/^\/lib\//, '/usr/lib/'),
  ];
  for (const path of candidates) {
    try {
      return execFileSync('dpkg', ['-S', path], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .split(':')[0]!
        .trim();
    } catch {
      // not under this spelling
    }
  }
  throw new Error(`no Debian package owns ${lib}`);
}

test('the image starts the server the same way npm start does', () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
    scripts: Record<string, string>;
  };
  const entry = /node (\S+\.ts)/.exec(pkg.scripts['start'] ?? '')?.[1];
  assert.ok(entry && existsSync(`${root}${entry}`));
  assert.ok(
    instructions.some((l) => l.startsWith('CMD') && l.includes(entry)),
    'CMD runs ' + entry,
  );
  assert.ok(
    instructions.some((l) => l.includes('build-worker.sh')),
    'uses the air-gapped worker build',
  );
});

test('k8s manifests only set environment variables the config schema knows', async () => {
  const { configSchema, envName } = await import('@tutti/config');
  const known = new Set<string>();
  const walk = (shape: Record<string, unknown>, path: string[]): void => {
    for (const [k, v] of Object.entries(shape)) {
      let s = v as { shape?: Record<string, unknown>; def?: { innerType?: unknown } };
      while (!s.shape && s.def?.innerType) s = s.def.innerType as typeof s;
      if (s.shape) walk(s.shape, [...path, k]);
      else known.add(envName([...path, k]));
    }
  };
  walk(configSchema.shape as Record<string, unknown>, []);
  const manifests = [
    'k8s/configmap.yaml',
    'k8s/media-node.yaml',
    'docker/Dockerfile',
    'docker/compose.yaml',
  ]
    .map((f) => readFileSync(`${root}${f}`, 'utf8'))
    .join('\n');
  // Build-time switches of media-workers/build and the config-file pointer are not settings.
  const buildTime = new Set([
    'TUTTI_CACHE_DIR',
    'TUTTI_SRTP',
    'TUTTI_KEEP_BUILD',
    'TUTTI_MEDIASOUP_DIR',
    'TUTTI_CONFIG',
  ]);
  const used = new Set(manifests.match(/TUTTI_[A-Z0-9_]+/g));
  for (const name of buildTime) used.delete(name);
  for (const name of used) assert.ok(known.has(name), `${name} is not a setting`);
});
