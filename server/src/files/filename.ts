const MAX_NAME_BYTES = 200;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * A display/download name safe everywhere: no path, no control or bidi-override
 * characters (which disguise extensions), no characters Windows forbids, no leading or
 * trailing dots/spaces, at most 200 UTF-8 bytes with the extension kept.
 */
export function sanitizeFilename(raw: string): string {
  let name = raw.normalize('NFC');
  name = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  name = name
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/\s+/g, ' ')
    .replace(/^[\s.]+|[\s.]+$/g, '');
  if (WINDOWS_RESERVED.test(name)) name = `_${name}`;
  name = truncateBytes(name, MAX_NAME_BYTES);
  return name === '' ? 'file' : name;
}

function truncateBytes(name: string, max: number): string {
  if (Buffer.byteLength(name) <= max) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  let base = [...name.slice(0, name.length - ext.length)];
  while (base.length > 0 && Buffer.byteLength(base.join('') + ext) > max) base = base.slice(0, -1);
  return base.join('').trimEnd() + ext;
}

/**
 * Content-Disposition with the name safely encoded: an ASCII fallback for old clients and
 * the exact UTF-8 name as RFC 5987 `filename*`.
 */
export function contentDisposition(kind: 'attachment' | 'inline', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
