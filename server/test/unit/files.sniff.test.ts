import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { detectType, SniffStream } from '../../src/files/sniff.ts';
import { TuttiError, type ErrorCode } from '@tutti/protocol';

const code = (c: ErrorCode) => (err: unknown) => err instanceof TuttiError && err.code === c;

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const ALLOWED = [
  'image/png',
  'application/pdf',
  'text/plain',
  'application/zip',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
];

test('detects types from magic bytes, not from the name', () => {
  assert.equal(detectType(PNG, 'photo.pdf', true), 'image/png');
  assert.equal(detectType(Buffer.from('%PDF-1.7\n'), 'x.png', true), 'application/pdf');
  assert.equal(detectType(Buffer.from([0xff, 0xd8, 0xff, 0xe0]), 'a', true), 'image/jpeg');
  assert.equal(detectType(Buffer.from('GIF89a...'), 'a', true), 'image/gif');
  assert.equal(detectType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '), 'a', true), 'image/webp');
  assert.equal(
    detectType(Buffer.from('MZ\x90\0\x03\0\0\0', 'latin1'), 'setup.txt', true),
    'application/octet-stream',
  );
  assert.equal(
    detectType(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), 'a.png', true),
    'application/octet-stream',
  );
});

test('containers are narrowed by extension only when the content is that container', () => {
  const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(40)]);
  assert.equal(
    detectType(zip, 'report.docx', true),
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  );
  assert.equal(detectType(zip, 'archive.zip', true), 'application/zip');
  assert.equal(detectType(Buffer.from('hello'), 'report.docx', true), 'text/plain');
  const ole = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
  assert.equal(detectType(ole, 'old.doc', true), 'application/msword');
  assert.equal(detectType(ole, 'thing.msi', true), 'application/x-ole-storage');
  // ODF names its type in the first (stored) entry, whatever the file is called.
  const odt = Buffer.concat([
    Buffer.from([0x50, 0x4b, 0x03, 0x04]),
    Buffer.alloc(26),
    Buffer.from('mimetypeapplication/vnd.oasis.opendocument.text'),
  ]);
  assert.equal(detectType(odt, 'notes.zip', true), 'application/vnd.oasis.opendocument.text');
});

test('text is valid UTF-8 without NUL', () => {
  assert.equal(detectType(Buffer.from('grüße, 你好 🎉\n'), 'a.txt', true), 'text/plain');
  assert.equal(detectType(Buffer.from('abc\0def'), 'a.txt', true), 'application/octet-stream');
  assert.equal(
    detectType(Buffer.from([0x61, 0xc3, 0x28]), 'a.txt', true),
    'application/octet-stream',
  );
  // A multi-byte character cut at the sniff boundary is fine mid-stream, not at the end.
  const cut = Buffer.from('é').subarray(0, 1);
  assert.equal(detectType(cut, 'a.txt', false), 'text/plain');
  assert.equal(detectType(cut, 'a.txt', true), 'application/octet-stream');
});

async function run(chunks: Buffer[], opts: { maxBytes?: number; name?: string } = {}) {
  const sniff = new SniffStream({
    filename: opts.name ?? 'f',
    allowedTypes: ALLOWED,
    maxBytes: opts.maxBytes ?? 1e6,
  });
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    sniff,
    new Writable({
      write(c, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return { type: sniff.type, bytes: sniff.bytes, data: Buffer.concat(out) };
}

test('SniffStream passes allowed content through unchanged, in small chunks too', async () => {
  const body = Buffer.concat([PNG, Buffer.alloc(10_000, 7)]);
  const chunks = Array.from({ length: Math.ceil(body.length / 100) }, (_, i) =>
    body.subarray(i * 100, i * 100 + 100),
  );
  const r = await run(chunks);
  assert.equal(r.type, 'image/png');
  assert.equal(r.bytes, body.length);
  assert.deepEqual(r.data, body);
  const small = await run([Buffer.from('hi')]);
  assert.equal(small.type, 'text/plain');
  assert.equal(small.data.toString(), 'hi');
});

test('SniffStream refuses a forbidden type before passing any byte on', async () => {
  const sniff = new SniffStream({ filename: 'x.png', allowedTypes: ALLOWED, maxBytes: 1e6 });
  let passed = 0;
  await assert.rejects(
    pipeline(
      Readable.from([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(8000)]),
      sniff,
      new Writable({
        write(c: Buffer, _e, cb) {
          passed += c.length;
          cb();
        },
      }),
    ),
    code('UNSUPPORTED_TYPE'),
  );
  assert.equal(passed, 0);
});

test('SniffStream refuses oversize content and binary data later in a text file', async () => {
  await assert.rejects(
    run([Buffer.alloc(600, 0x61), Buffer.alloc(600, 0x61)], { maxBytes: 1000 }),
    (err) =>
      code('PAYLOAD_TOO_LARGE')(err) && /too large: the limit is 1000 bytes/.test(String(err)),
  );
  await assert.rejects(
    run([Buffer.alloc(5000, 0x61), Buffer.from([0, 1, 2])]),
    code('UNSUPPORTED_TYPE'),
  );
});
