import { Transform, type TransformCallback } from 'node:stream';
import { TuttiError } from '@tutti/protocol';

/** How many leading bytes the magic-byte check looks at. */
export const SNIFF_BYTES = 4096;

const ZIP_BY_EXT: Record<string, string> = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
};
const OLE_BY_EXT: Record<string, string> = {
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
};

const startsWith = (b: Buffer, sig: number[] | string, at = 0): boolean =>
  (typeof sig === 'string' ? Buffer.from(sig, 'latin1') : Buffer.from(sig)).equals(
    b.subarray(at, at + sig.length),
  );

/**
 * The MIME type of a file from its first bytes. Containers (zip, OLE2) are narrowed to an
 * office type by the file's extension only when the content is that container: the name
 * can refine, never decide. Text is "valid UTF-8 without NUL" (the rest of the stream is
 * checked by SniffStream). Unknown content is application/octet-stream.
 */
export function detectType(head: Buffer, filename: string, complete: boolean): string {
  const ext = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase() ?? '';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(head, 'GIF87a') || startsWith(head, 'GIF89a')) return 'image/gif';
  if (startsWith(head, 'RIFF') && startsWith(head, 'WEBP', 8)) return 'image/webp';
  if (startsWith(head, '%PDF-')) return 'application/pdf';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) {
    // ODF stores its type uncompressed as the first entry, named "mimetype".
    if (startsWith(head, 'mimetype', 30)) {
      const odf = head.subarray(38, 38 + 80).toString('latin1');
      const found = Object.values(ZIP_BY_EXT).find((t) => odf.startsWith(t));
      if (found) return found;
    }
    return ZIP_BY_EXT[ext] ?? 'application/zip';
  }
  if (startsWith(head, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) {
    return OLE_BY_EXT[ext] ?? 'application/x-ole-storage';
  }
  if (head.length > 0 && isUtf8Text(head, complete)) return 'text/plain';
  return 'application/octet-stream';
}

/** Valid UTF-8 without NUL; an incomplete sequence at the cut is fine unless `complete`. */
function isUtf8Text(bytes: Buffer, complete: boolean): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: !complete });
    return true;
  } catch {
    return false;
  }
}

/**
 * Pass-through that holds back the first SNIFF_BYTES, decides the type, and fails the
 * stream (UNSUPPORTED_TYPE / PAYLOAD_TOO_LARGE) before anything unwanted is passed on.
 * Text stays validated to the last byte.
 */
export class SniffStream extends Transform {
  readonly #filename: string;
  readonly #allowed: ReadonlySet<string>;
  readonly #maxBytes: number;
  #head: Buffer[] = [];
  #headBytes = 0;
  #bytes = 0;
  #text: TextDecoder | undefined;
  /** Set once decided. */
  type: string | undefined;

  constructor(opts: { filename: string; allowedTypes: Iterable<string>; maxBytes: number }) {
    super();
    this.#filename = opts.filename;
    this.#allowed = new Set(opts.allowedTypes);
    this.#maxBytes = opts.maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#maxBytes) return done(tooLarge(this.#maxBytes));
    if (this.type === undefined) {
      this.#head.push(chunk);
      this.#headBytes += chunk.length;
      if (this.#headBytes < SNIFF_BYTES) return done();
      return done(this.#decide(false));
    }
    done(this.#checkText(chunk, false), chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.type === undefined) {
      const err = this.#decide(true);
      if (err) return done(err);
    }
    done(this.#checkText(Buffer.alloc(0), true));
  }

  #decide(complete: boolean): Error | null {
    const head = Buffer.concat(this.#head);
    this.#head = [];
    const type = detectType(head, this.#filename, complete);
    if (!this.#allowed.has(type)) {
      return new TuttiError(
        'UNSUPPORTED_TYPE',
        type === 'application/octet-stream'
          ? 'this kind of file is not allowed'
          : `files of type ${type} are not allowed`,
      );
    }
    this.type = type;
    if (type === 'text/plain') this.#text = new TextDecoder('utf-8', { fatal: true });
    const err = this.#checkText(head, complete);
    if (!err) this.push(head);
    return err;
  }

  #checkText(chunk: Buffer, end: boolean): Error | null {
    if (!this.#text) return null;
    try {
      if (chunk.includes(0)) throw new Error('NUL');
      this.#text.decode(chunk, { stream: !end });
      return null;
    } catch {
      return new TuttiError('UNSUPPORTED_TYPE', 'text files must be UTF-8 without binary data');
    }
  }
}

export function tooLarge(maxBytes: number): TuttiError {
  return new TuttiError(
    'PAYLOAD_TOO_LARGE',
    `file too large: the limit is ${formatBytes(maxBytes)}`,
  );
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}
