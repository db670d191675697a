import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentDisposition, sanitizeFilename } from '../../src/files/filename.ts';
import { parseRange } from '../../src/files/range.ts';
import { TokenSigner } from '../../src/files/tokens.ts';
import { fileKey, roomPrefix } from '../../src/files/keys.ts';

test('filenames lose paths, control and bidi characters, and reserved names', () => {
  assert.equal(sanitizeFilename('../../etc/passwd'), 'passwd');
  assert.equal(sanitizeFilename('C:\\Users\\me\\report.pdf'), 'report.pdf');
  assert.equal(sanitizeFilename('invoice\u202Efdp.exe'), 'invoicefdp.exe');
  assert.equal(sanitizeFilename('a\u0000b\nc.txt'), 'abc.txt');
  assert.equal(sanitizeFilename('what?<>|*:".txt'), 'what_______.txt');
  assert.equal(sanitizeFilename('  ..hidden.  '), 'hidden');
  assert.equal(sanitizeFilename('CON.txt'), '_CON.txt');
  assert.equal(sanitizeFilename(''), 'file');
  assert.equal(sanitizeFilename('...'), 'file');
  assert.equal(sanitizeFilename('Grüße 🎉.png'), 'Grüße 🎉.png');
  const long = sanitizeFilename('é'.repeat(300) + '.pdf');
  assert.ok(Buffer.byteLength(long) <= 200);
  assert.ok(long.endsWith('.pdf'));
});

test('Content-Disposition carries an ASCII fallback and the exact UTF-8 name', () => {
  assert.equal(
    contentDisposition('attachment', 'Grüße (1).pdf'),
    `attachment; filename="Gr__e (1).pdf"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%281%29.pdf`,
  );
  assert.match(
    contentDisposition('inline', "it's 100%.png"),
    /filename="it's 100_.png"; filename\*=UTF-8''it%27s%20100%25.png$/,
  );
});

test('Range headers: single ranges resolved, others ignored, impossible ones 416', () => {
  assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=900-', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=990-5000', 1000), { start: 990, end: 999 });
  assert.equal(parseRange('bytes=1000-', 1000), 'unsatisfiable');
  assert.equal(parseRange('bytes=5-2', 1000), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-1,5-6', 1000), undefined);
  assert.equal(parseRange('items=0-1', 1000), undefined);
  assert.equal(parseRange(undefined, 1000), undefined);
});

test('tokens: signed, kind-bound, expiring, tamper-evident', () => {
  const a = new TokenSigner('a-long-shared-secret');
  const b = new TokenSigner('another-long-secret');
  const up = a.sign({ kind: 'u', peerId: 'p1', roomId: 'r1', exp: Date.now() + 1000 });
  assert.equal(a.verify(up, 'u')?.peerId, 'p1');
  assert.equal(a.verify(up, 'a'), undefined, 'an upload token is no access token');
  assert.equal(b.verify(up, 'u'), undefined, 'another key rejects it');
  assert.equal(a.verify(up, 'u', Date.now() + 2000), undefined, 'expired');
  const [payload, mac] = up.split('.');
  const forged = Buffer.from(JSON.stringify(['u', 'p2', 'r1', Date.now() + 1000])).toString(
    'base64url',
  );
  assert.equal(a.verify(`${forged}.${mac}`, 'u'), undefined);
  assert.equal(a.verify(`${payload}.x${mac}`, 'u'), undefined);
  assert.equal(a.verify('garbage', 'u'), undefined);
  const access = a.sign({ kind: 'a', peerId: 'p1', roomId: 'r1' });
  assert.deepEqual(a.verify(access, 'a'), { kind: 'a', peerId: 'p1', roomId: 'r1' });
  assert.equal(
    a.verify(a.sign({ kind: 'u', peerId: 'p', roomId: 'r' }), 'u'),
    undefined,
    'upload tokens must expire',
  );
  assert.equal(
    new TokenSigner('a-long-shared-secret').verify(access, 'a')?.roomId,
    'r1',
    'nodes sharing the secret agree',
  );
});

test('storage keys encode room ids so they cannot escape or collide', () => {
  assert.equal(fileKey('room-1', 'f'), 'room-1/f');
  assert.equal(roomPrefix('a/b'), 'a%2Fb/');
  assert.equal(roomPrefix('..'), '%2E./');
});
