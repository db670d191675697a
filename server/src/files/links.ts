import type { ChatMessage, SharedFile } from '@tutti/protocol';
import { TokenSigner } from './tokens.ts';

/** Where the HTTP routes live (files/http.ts); links in messages point here. */
export const FILES_PATH = '/api/files';

/**
 * The tokens behind file links: upload tokens, and the per-viewer access token every file
 * link carries. Built first, so chat can personalise messages (present) without knowing
 * the files concern, and files can announce uploads without knowing chat.
 */
export class FileLinks {
  readonly tokens: TokenSigner;

  /** `secret`: HMAC key shared by all nodes; random per process when absent. */
  constructor(secret?: string) {
    this.tokens = new TokenSigner(secret);
  }

  /** Personalises file links for one recipient: its access token goes in the query. */
  readonly present = (message: ChatMessage, viewerPeerId: string): ChatMessage => {
    if (!message.file) return message;
    const t = this.tokens.sign({ kind: 'a', peerId: viewerPeerId, roomId: message.roomId });
    const base = message.file.url.split('?')[0];
    const file: SharedFile = { ...message.file, url: `${base}?t=${t}` };
    if (message.file.previewUrl) file.previewUrl = `${base}?t=${t}&inline=1`;
    return { ...message, file };
  };
}
