export interface UploadHandle {
  done: Promise<void>;
  abort(): void;
}

/**
 * Uploads one file with XMLHttpRequest (fetch has no upload progress) as multipart/form-data,
 * authorised by a one-time token from `files.uploadToken`. The server posts the resulting
 * file message into the chat itself. Errors carry the server's `CODE: text` reason.
 */
export function uploadFile(
  uploadUrl: string,
  token: string,
  file: File,
  onProgress: (loaded: number) => void,
): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    xhr.open('POST', uploadUrl);
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size);
        resolve();
      } else {
        reject(new Error(reasonOf(xhr)));
      }
    };
    xhr.onerror = () => reject(new Error(reasonOf(xhr) || 'network error'));
    xhr.onabort = () => {
      const err = new Error('upload cancelled');
      err.name = 'AbortError';
      reject(err);
    };
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

function reasonOf(xhr: XMLHttpRequest): string {
  const fallback =
    xhr.status === 413
      ? 'PAYLOAD_TOO_LARGE: the file is too large'
      : xhr.status === 415
        ? 'UNSUPPORTED_TYPE: this type of file is not allowed'
        : xhr.status
          ? `HTTP ${xhr.status}`
          : '';
  try {
    const body: unknown = JSON.parse(xhr.responseText);
    if (body && typeof body === 'object') {
      const rec = body as Record<string, unknown>;
      if (typeof rec['error'] === 'string' && typeof rec['message'] === 'string') {
        return `${rec['error']}: ${rec['message']}`;
      }
      for (const key of ['reason', 'error', 'message']) {
        const v = rec[key];
        if (typeof v === 'string' && v) return v;
      }
    }
  } catch {
    // not JSON
  }
  return xhr.responseText && xhr.responseText.length < 300 ? xhr.responseText : fallback;
}
