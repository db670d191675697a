import type { Role } from './moderation.ts';

/** Shapes shared by requests, notifications and the HTTP API. */

/** What the lobby shows for a room. Never contains the password or owner secret. */
export interface RoomSummary {
  id: string;
  name: string;
  peers: number;
  capacity: number | null;
  locked: boolean;
  /** End-to-end encrypted: frames are encrypted in the browsers with a passphrase's keys. */
  e2ee: boolean;
  createdAt: number;
}

export const MEDIA_SOURCES = ['mic', 'camera', 'screen', 'screen-audio'] as const;
export type MediaSource = (typeof MEDIA_SOURCES)[number];

/** Per-person state everybody in the room sees. */
export interface PeerInfo {
  id: string;
  nickname: string;
  /** 'off' = producing but paused (muted); 'none' = not producing at all. */
  mic: 'on' | 'off' | 'none';
  camera: 'on' | 'off' | 'none';
  screen: boolean;
  joinedAt: number;
  /**
   * owner / moderator / participant (moderation.ts; a join token may give it); changes
   * arrive as room.peerUpdated.
   */
  role: Role;
}

export interface ChatMessage {
  id: string;
  /**
   * Server order: strictly increasing in the order messages were accepted. Clients merge
   * join history and live `chat.message` notifications by `id` and sort by `seq`.
   */
  seq: number;
  roomId: string;
  from: { peerId: string; nickname: string };
  /** Set on private messages: only sender and this peer ever see them. */
  to?: { peerId: string; nickname: string };
  text: string;
  createdAt: number;
  /** Present on file messages posted by the server after an upload. */
  file?: SharedFile;
}

export interface SharedFile {
  id: string;
  /** Sanitised original name. */
  name: string;
  size: number;
  /** MIME type detected from the content (not the name). */
  type: string;
  /**
   * Download link for *this* recipient: carries its access token, works from a plain
   * `<a href>` while the recipient is in the room; served as an attachment.
   */
  url: string;
  /** Images only: same bytes served inline, for an `<img>` preview. */
  previewUrl?: string;
}
