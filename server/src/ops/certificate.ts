import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';

/** A PEM certificate and its private key, as node:https takes them. */
export interface TlsPair {
  cert: string;
  key: string;
  /** Where they came from: the configured files, a generated pair reused, or one made now. */
  origin: 'config' | 'reused' | 'generated';
  certFile: string;
}

export interface CertificateSource {
  /** Root for generated files (config.data.dir): the pair lives in `<dataDir>/tls/`. */
  dataDir: string;
  /** Real certificate and key (both or neither). */
  certFile?: string;
  keyFile?: string;
}

/** A generated certificate is replaced this long before it expires. */
const RENEW_BEFORE_MS = 24 * 3600 * 1000;
const VALID_DAYS = 365;

/**
 * The configured certificate, else the self-signed one under the data dir, made on first
 * use (no network: generated in-process) and reused on every later start while it is
 * valid and matches its key.
 */
export async function loadOrCreateCertificate(src: CertificateSource): Promise<TlsPair> {
  if (src.certFile || src.keyFile) {
    if (!src.certFile || !src.keyFile) {
      throw new Error('server.tlsCertFile and server.tlsKeyFile go together: set both or neither');
    }
    const cert = readFileSync(src.certFile, 'utf8');
    const key = readFileSync(src.keyFile, 'utf8');
    if (!matches(cert, key)) {
      throw new Error(`${src.certFile} does not match ${src.keyFile} (or is not PEM)`);
    }
    return { cert, key, origin: 'config', certFile: src.certFile };
  }

  const dir = path.join(src.dataDir, 'tls');
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const cert = readFileSync(certFile, 'utf8');
    const key = readFileSync(keyFile, 'utf8');
    if (matches(cert, key) && !expiringSoon(cert)) {
      return { cert, key, origin: 'reused', certFile };
    }
  }

  const pair = await generateSelfSigned();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Key first, each by rename: a crash half-way leaves a mismatch, which is regenerated.
  writeAtomically(keyFile, pair.key, 0o600);
  writeAtomically(certFile, pair.cert, 0o644);
  return { ...pair, origin: 'generated', certFile };
}

/** Names a browser on this machine or the LAN may use: localhost, the host name, every IP. */
export function localNames(): { dns: string[]; ips: string[] } {
  const ips = new Set(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.address.startsWith('fe80:')) ips.add(a.address);
  }
  const dns = new Set(['localhost', hostname()].filter((n) => /^[A-Za-z0-9.-]+$/.test(n)));
  return { dns: [...dns], ips: [...ips] };
}

async function generateSelfSigned(): Promise<{ cert: string; key: string }> {
  const { dns, ips } = localNames();
  const notBeforeDate = new Date(Date.now() - 60_000); // a little clock skew
  const pems = await generate([{ name: 'commonName', value: 'Tutti (self-signed)' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + VALID_DAYS * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...dns.map((value) => ({ type: 2 as const, value })),
          ...ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

function matches(certPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function expiringSoon(certPem: string): boolean {
  const validTo = Date.parse(new X509Certificate(certPem).validTo);
  return !(validTo - Date.now() > RENEW_BEFORE_MS);
}

function writeAtomically(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}
