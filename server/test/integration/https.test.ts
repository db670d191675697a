import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { loadOrCreateCertificate } from '../../src/ops/certificate.ts';
import { spawnMain, type LogLine } from '../helpers/mainProcess.ts';

// Issue #10 "HTTPS out of the box": `npm start` (server/src/main.ts) also serves the same app
// on server.httpsPort with a self-signed certificate generated on first start under the data
// dir and reused on restart.

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

interface Running {
  child: ChildProcess;
  logs: LogLine[];
  stop(): Promise<number | null>;
}

async function startMain(configFile: string): Promise<Running> {
  const main = spawnMain(configFile);
  const { child, exited, logs, stderr } = main;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no HTTPS listening line: ${stderr.join('')}`)),
      20_000,
    );
    const check = (l: LogLine) => {
      if (/^HTTPS at https:\/\//.test(l.msg)) {
        clearTimeout(timer);
        resolve();
      }
    };
    logs.forEach(check);
    main.onLine = check;
    void exited.then(() => reject(new Error(`server exited: ${stderr.join('')}`)));
  });
  return {
    child,
    logs,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  fingerprint: string;
}

function httpsGet(port: number, urlPath: string, ca: string | undefined): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: urlPath, ca, timeout: 5000, agent: false },
      (res) => {
        // Read while the socket is still this response's (it goes back to the agent at end).
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            fingerprint,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Opens wss://…/ws trusting `ca`, asks lobby.subscribe over protoo, returns the answer. */
function wssLobby(port: number, ca: string): Promise<{ ok: boolean; data?: { rooms: unknown[] } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, 'protoo', { ca });
    const timer = setTimeout(() => reject(new Error('no protoo answer over wss')), 5000);
    ws.on('error', reject);
    ws.on('open', () => {
      ws.send(JSON.stringify({ request: true, id: 1, method: 'lobby.subscribe', data: {} }));
    });
    ws.on('message', (raw: Buffer) => {
      const m = JSON.parse(raw.toString('utf8')) as { response?: boolean; id?: number };
      if (m.response && m.id === 1) {
        clearTimeout(timer);
        ws.close();
        resolve(m as { ok: boolean; data?: { rooms: unknown[] } });
      }
    });
  });
}

test('npm start serves the same app over HTTPS with a generated, reused certificate', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tutti-https-'));
  const httpsPort = await freePort();
  const configFile = path.join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      server: { host: '127.0.0.1', port: 0, httpsPort, logLevel: 'info' },
      media: { numWorkers: 1, listenIp: '127.0.0.1' },
      data: { dir },
    }),
  );
  const certFile = path.join(dir, 'tls', 'cert.pem');
  let running: Running | undefined;
  try {
    running = await startMain(configFile);
    assert.equal(running.logs.find((l) => l.msg === 'HTTPS certificate')?.origin, 'generated');
    const cert = readFileSync(certFile, 'utf8');
    const x509 = new X509Certificate(cert);
    assert.match(x509.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.match(x509.subjectAltName ?? '', /DNS:localhost/);

    // Not trusted without the certificate; trusted with it.
    await assert.rejects(httpsGet(httpsPort, '/api/health', undefined), /self-signed|certificate/);
    const health = await httpsGet(httpsPort, '/api/health', cert);
    assert.equal(health.status, 200);
    assert.equal(health.fingerprint, x509.fingerprint256);
    assert.ok((JSON.parse(health.body) as object) && health.body.length > 0);
    // The same app: API routes, the security headers, the SPA fallback's JSON 404.
    const rooms = await httpsGet(httpsPort, '/api/rooms', cert);
    assert.equal(rooms.status, 200);
    assert.match(String(rooms.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal((await httpsGet(httpsPort, '/api/nope', cert)).status, 404);

    // Signaling over wss on the same port.
    const answer = await wssLobby(httpsPort, cert);
    assert.equal(answer.ok, true);
    assert.ok(Array.isArray(answer.data?.rooms));

    assert.equal(await running.stop(), 0, 'clean exit with the HTTPS server open');
    running = undefined;

    // Restart on the same data dir: the same certificate is served.
    running = await startMain(configFile);
    assert.equal(running.logs.find((l) => l.msg === 'HTTPS certificate')?.origin, 'reused');
    assert.equal(readFileSync(certFile, 'utf8'), cert);
    const again = await httpsGet(httpsPort, '/api/health', cert);
    assert.equal(again.status, 200);
    assert.equal(again.fingerprint, x509.fingerprint256);
    assert.equal((await wssLobby(httpsPort, cert)).ok, true);
    assert.equal(await running.stop(), 0);
    running = undefined;
  } finally {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a configured certificate is used as is; a mismatched pair is refused', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tutti-tls-'));
  try {
    const a = await loadOrCreateCertificate({ dataDir: path.join(dir, 'a') });
    const b = await loadOrCreateCertificate({ dataDir: path.join(dir, 'b') });
    assert.equal(a.origin, 'generated');
    const certFile = path.join(dir, 'real.crt');
    const keyFile = path.join(dir, 'real.key');
    copyFileSync(a.certFile, certFile);
    writeFileSync(keyFile, a.key);
    const real = await loadOrCreateCertificate({ dataDir: dir, certFile, keyFile });
    assert.equal(real.origin, 'config');
    assert.equal(real.cert, a.cert);

    writeFileSync(keyFile, b.key);
    await assert.rejects(
      loadOrCreateCertificate({ dataDir: dir, certFile, keyFile }),
      /does not match/,
    );
    await assert.rejects(loadOrCreateCertificate({ dataDir: dir, certFile }), /set both/);

    // A damaged generated pair is replaced, not served.
    writeFileSync(path.join(dir, 'a', 'tls', 'key.pem'), b.key);
    const fresh = await loadOrCreateCertificate({ dataDir: path.join(dir, 'a') });
    assert.equal(fresh.origin, 'generated');
    assert.notEqual(fresh.cert, a.cert);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
