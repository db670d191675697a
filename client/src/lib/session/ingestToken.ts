import { storage } from '../storage.ts';

/** What POST /api/rooms/:id/ingest-tokens answers (the token is shown once). */
export interface IngestTokenGrant {
  id: string;
  token: string;
  /** Absolute WHIP endpoint for an encoder (OBS, a camera, the whip-whep client). */
  whipUrl: string;
  /** The WHEP viewer token made with it (watching only; revoked together). */
  viewerToken: string;
  /** Absolute WHEP endpoint for a player that never joins (add ?participant=<peerId> to pin one). */
  whepUrl: string;
}

/** Creates a WHIP ingest token for a room we own; rejects with the server's message. */
export async function createIngestToken(roomId: string, label: string): Promise<IngestTokenGrant> {
  const ownerSecret = storage.ownerSecret(roomId);
  if (!ownerSecret) throw new Error('Only the owner can create ingest tokens.');
  const res = await fetch(`/api/rooms/${encodeURIComponent(roomId)}/ingest-tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-owner-secret': ownerSecret },
    body: JSON.stringify({ label }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json().catch(() => ({}))) as Partial<IngestTokenGrant> & {
    message?: string;
  };
  if (!res.ok || !body.token || !body.id || !body.whipUrl || !body.viewerToken || !body.whepUrl) {
    throw new Error(body.message ?? `could not create an ingest token (${res.status})`);
  }
  return {
    id: body.id,
    token: body.token,
    whipUrl: new URL(body.whipUrl, location.origin).href,
    viewerToken: body.viewerToken,
    whepUrl: new URL(body.whepUrl, location.origin).href,
  };
}

/** Revokes a grant (its ingest and viewer tokens); what they started ends. */
export async function revokeIngestToken(roomId: string, tokenId: string): Promise<void> {
  const ownerSecret = storage.ownerSecret(roomId);
  if (!ownerSecret) throw new Error('Only the owner can revoke ingest tokens.');
  const res = await fetch(
    `/api/rooms/${encodeURIComponent(roomId)}/ingest-tokens/${encodeURIComponent(tokenId)}`,
    {
      method: 'DELETE',
      headers: { 'x-owner-secret': ownerSecret },
      signal: AbortSignal.timeout(10_000),
    },
  );
  if (!res.ok && res.status !== 404) {
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    throw new Error(body.message ?? `could not revoke the token (${res.status})`);
  }
}
