/**
 * Storage keys: `<room>/<file>`. Room ids come from elsewhere, so each segment is
 * percent-encoded (and a leading dot escaped): a key can never climb out of its folder on
 * disk nor collide between rooms in a bucket.
 */
export function segment(value: string): string {
  return encodeURIComponent(value).replace(/^\./, '%2E');
}

export function roomPrefix(roomId: string): string {
  return `${segment(roomId)}/`;
}

export function fileKey(roomId: string, fileId: string): string {
  return `${roomPrefix(roomId)}${segment(fileId)}`;
}

/** Rejects keys a driver must never touch (absolute, `..`, empty segments). */
export function assertSafeKey(key: string, allowTrailingSlash = false): void {
  const parts = key.split('/');
  if (allowTrailingSlash && parts.at(-1) === '') parts.pop();
  if (
    parts.length === 0 ||
    parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0'))
  ) {
    throw new Error(`unsafe storage key: ${JSON.stringify(key)}`);
  }
}
