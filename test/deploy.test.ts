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

// ---- Docker Compose (no engine here: the file is parsed and checked).

test('docker/compose.yaml: a 2-node cluster, Redis with a password on the internal network only', async () => {
  const { parse } = await import('yaml');
  type Service = {
    build?: { context: string; dockerfile: string };
    ports?: string[];
    environment?: Record<string, string>;
    command?: string[];
    networks?: string[];
    depends_on?: Record<string, unknown>;
    network_mode?: string;
  };
  const compose = parse(readFileSync(`${root}docker/compose.yaml`, 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
  };
  const services = compose.services;
  const nodes = Object.entries(services).filter(([, s]) => s.build);
  assert.equal(nodes.length, 2, 'two Tutti nodes');
  const ids = new Set<string>();
  const ranges: [number, number][] = [];
  for (const [name, s] of nodes) {
    assert.ok(
      existsSync(`${root}docker/${s.build!.context}/${s.build!.dockerfile}`),
      `${name} builds the Dockerfile`,
    );
    const env = s.environment!;
    for (const key of [
      'TUTTI_REDIS_URL',
      'TUTTI_DATABASE_URL',
      'TUTTI_FILES_SECRET',
      'TUTTI_CLUSTER_NODE_ID',
      'TUTTI_MEDIA_ANNOUNCED_ADDRESS',
      'TUTTI_SERVER_HOST',
      'PORT',
    ])
      assert.ok(env[key], `${name} sets ${key}`);
    assert.match(env['TUTTI_REDIS_URL']!, /^redis:\/\/:\$\{REDIS_PASSWORD[^}]*\}@redis:6379$/);
    assert.match(
      env['TUTTI_DATABASE_URL']!,
      /^postgres:\/\/tutti:\$\{POSTGRES_PASSWORD[^}]*\}@postgres:5432\/tutti$/,
    );
    assert.equal(env['TUTTI_FILES_DRIVER'], 's3');
    assert.match(env['TUTTI_FILES_S3_ENDPOINT']!, /^http:\/\/minio:9000$/);
    ids.add(env['TUTTI_CLUSTER_NODE_ID']!);
    const min = Number(env['TUTTI_MEDIA_RTC_MIN_PORT']);
    const max = Number(env['TUTTI_MEDIA_RTC_MAX_PORT']);
    for (const proto of ['udp', 'tcp'])
      assert.ok(
        s.ports!.includes(`${min}-${max}:${min}-${max}/${proto}`),
        `${name} publishes its ${proto} range`,
      );
    ranges.push([min, max]);
    for (const dep of Object.keys(s.depends_on ?? {}))
      assert.ok(services[dep], `${name} depends on ${dep}`);
  }
  assert.equal(ids.size, 2, 'distinct node ids');
  const [[a0, a1], [b0, b1]] = ranges as [[number, number], [number, number]];
  assert.ok(a1 < b0 || b1 < a0, 'the RTC ranges do not overlap');

  const redis = services['redis']!;
  assert.ok(redis.command!.includes('--requirepass'), 'Redis requires a password');
  assert.equal(redis.ports, undefined, 'Redis publishes no port');
  assert.equal(redis.network_mode, undefined);
  for (const backing of ['postgres', 'minio'])
    assert.equal(services[backing]?.ports, undefined, `${backing} publishes no port`);
  for (const [name, s] of Object.entries(services))
    assert.deepEqual(s.networks, ['backend'], `${name} on the internal network`);
  const example = readFileSync(`${root}docker/env.example`, 'utf8');
  for (const [, variable] of readFileSync(`${root}docker/compose.yaml`, 'utf8').matchAll(
    /\$\{([A-Z_]+):\?/g,
  ))
    assert.match(example, new RegExp(`^${variable}=`, 'm'), `env.example sets ${variable}`);
});
