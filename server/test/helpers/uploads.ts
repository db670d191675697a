import { request } from 'node:http';
import type { TestServer } from '../../../test/helpers/startServer.ts';
import type { Member } from './chatClients.ts';

export interface UploadAnswer {
  status: number;
  body: { error?: string; message?: unknown } & Record<string, unknown>;
}

export async function uploadToken(m: Member): Promise<string> {
  return (await m.client.request('files.uploadToken', {})).token;
}

/** One multipart upload of `bytes` as `name`, all at once. */
export async function uploadFile(
  server: TestServer,
  token: string,
  name: string,
  bytes: Buffer,
): Promise<UploadAnswer> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)]), name);
  const res = await fetch(`${server.url}/api/files?token=${encodeURIComponent(token)}`, {
    method: 'POST',
    body: form,
  });
  return { status: res.status, body: (await res.json()) as UploadAnswer['body'] };
}

/**
 * A multipart upload whose body is sent by the test: `send` writes file bytes, `finish`
 * closes the part and the request. `answer` settles when the server responds.
 */
export function streamingUpload(
  server: TestServer,
  token: string,
  name: string,
  declaredFileBytes?: number,
): { send(bytes: Buffer): void; finish(): void; abort(): void; answer: Promise<UploadAnswer> } {
  const boundary = `----tutti${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(
    `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${name}"\r\n` +
      `content-type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const url = new URL(`${server.url}/api/files?token=${encodeURIComponent(token)}`);
  const req = request(url, {
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      ...(declaredFileBytes !== undefined && {
        'content-length': head.length + declaredFileBytes + tail.length,
      }),
    },
  });
  const answer = new Promise<UploadAnswer>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: UploadAnswer['body'];
        try {
          body = JSON.parse(text) as UploadAnswer['body'];
        } catch {
          body = { raw: text };
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  req.write(head);
  return {
    send: (bytes) => void req.write(bytes),
    finish: () => void req.end(tail),
    abort: () => void req.destroy(),
    answer,
  };
}
