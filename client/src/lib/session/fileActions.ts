import { errorCodeOf, errorText } from '@tutti/protocol';
import type { Signaling } from '../signaling.ts';
import { uploadFile, type UploadHandle } from '../upload.ts';

/** Sharing a file: an upload token over signaling, then the upload itself (XHR). */
export class FileActions {
  constructor(private readonly signaling: Signaling) {}

  /** Starts an upload; `handle.done` settles when the server has the file. */
  async upload(file: File, onProgress: (loaded: number) => void): Promise<UploadHandle> {
    const { uploadUrl, token } = await this.signaling.request('files.uploadToken', {});
    return uploadFile(uploadUrl, token, file, onProgress);
  }
}

/** Why an upload failed, in words; null when the user cancelled it. */
export function uploadFailure(file: File, err: unknown): string | null {
  if (err instanceof Error && err.name === 'AbortError') return null;
  const code = errorCodeOf(err);
  const text = errorText(err);
  let why = text;
  if (code === 'PAYLOAD_TOO_LARGE' && !/large/i.test(text)) why = `too large (${text})`;
  if (code === 'UNSUPPORTED_TYPE' && !/type|allowed/i.test(text)) {
    why = `this type of file is not allowed (${text})`;
  }
  return `Could not upload ${file.name}: ${why}`;
}
