/**
 * A join token in the page URL (`?token=…`, docs/admin-api.md): the room and the nickname
 * are read from its claims (the server verifies the signature; the page only needs to know
 * where to go). The token is taken out of the address bar so it is not shared by copying.
 */
export interface UrlJoinToken {
  token: string;
  roomId: string;
  nickname: string;
}

export function takeJoinTokenFromUrl(): UrlJoinToken | null {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (!token) return null;
  url.searchParams.delete('token');
  history.replaceState(null, '', url.toString());
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as {
      room?: unknown;
      name?: unknown;
      sub?: unknown;
    };
    if (typeof claims.room !== 'string') return null;
    const name = typeof claims.name === 'string' ? claims.name : String(claims.sub ?? 'guest');
    return { token, roomId: claims.room, nickname: name.slice(0, 32) || 'guest' };
  } catch {
    return null;
  }
}
