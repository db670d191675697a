import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '@tutti/config';
import { buildApp } from '@tutti/server';
import { redactUrl } from '../../src/ops/logRedaction.ts';

// Issue #10 item 8: tokens in URLs (?token= uploads, ?t= downloads) must not reach the log.

test('redactUrl replaces every query value and keeps the path and names', () => {
  assert.equal(redactUrl('/api/health'), '/api/health');
  assert.equal(redactUrl('/x?token=abc&t=def'), '/x?token=[redacted]&t=[redacted]');
  assert.equal(redactUrl('/x?inline=1&bare#frag'), '/x?inline=[redacted]&[redacted]');
  assert.equal(redactUrl('/x?'), '/x?[redacted]');
});

test('requests with ?token=secret log no "secret" (real server, info level)', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tutti-logs-'));
  const configFile = path.join(dataDir, 'config.json');
  writeFileSync(configFile, '{}');
  const config = loadConfig(
    {
      server: { host: '127.0.0.1', port: 0, publicDir: dataDir },
      media: { numWorkers: 1 },
      data: { dir: dataDir },
    },
    { TUTTI_CONFIG: configFile },
  );
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = { level: 'info', stream };
  const app = await buildApp(config, { logger });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    assert.ok(addr && typeof addr === 'object');
    const base = `http://127.0.0.1:${addr.port}`;
    const urls = [
      '/api/health?token=secret-one',
      '/api/files?token=secret-two', // GET on an upload URL: 404
      '/api/files/r/f/name.png?t=secret-three&inline=1',
      '/ws?token=secret-four', // a plain GET of the socket path
      '/nowhere?token=secret-five&ownerSecret=secret-six',
    ];
    for (const u of urls) await (await fetch(base + u)).arrayBuffer();
    const upload = await fetch(`${base}/api/files?token=secret-seven`, { method: 'POST' });
    await upload.arrayBuffer();
    const ws = new WebSocket(`ws://127.0.0.1:${addr.port}/ws?token=secret-eight`, 'protoo');
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error('socket failed'));
    });
    ws.close();
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const log = lines.join('');
  assert.match(log, /incoming request/, 'the request log is on');
  assert.match(log, /\/api\/health\?token=\[redacted\]/);
  assert.doesNotMatch(log, /secret/);
});
